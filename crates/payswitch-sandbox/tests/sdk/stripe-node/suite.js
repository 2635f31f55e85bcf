// Drives Stripe's official Node SDK (stripe-node, pinned in package-lock.json) against a
// running payswitch sandbox: create, retrieve and list every emulated object, the lifecycle
// operations, and the errors, each thrown as the SDK's own error class.
//
//     PAYSWITCH_SANDBOX_URL=http://127.0.0.1:12111 node suite.js
//
// sdk_stripe.rs starts the sandbox binary and runs this; it prints `N passed, M failed` and
// exits non-zero when a check fails. Paying a session is the customer's part, done through the
// sandbox's admin API (`POST /__sandbox/checkouts/{id}/pay`), as a browser would on the page.
'use strict';

const assert = require('node:assert/strict');
const StripeModule = require('stripe');

const Stripe = StripeModule.default || StripeModule;
const BASE = new URL(process.env.PAYSWITCH_SANDBOX_URL || 'http://127.0.0.1:12111');
const KEY = process.env.PAYSWITCH_STRIPE_SECRET_KEY || 'sk_test_sandbox';

/** A client pointed at the sandbox; no retries, so an error is seen as answered. */
function clientWith(key) {
  return new Stripe(key, {
    host: BASE.hostname,
    port: Number(BASE.port),
    protocol: 'http',
    maxNetworkRetries: 0,
  });
}

const stripe = clientWith(KEY);
const SUCCESS_URL = 'https://shop.test/success?session_id={CHECKOUT_SESSION_ID}';
const ids = {};
const checks = [];

/** Registers a check; checks run in the order they are defined and share `ids`. */
function check(name, run) {
  checks.push({ name, run });
}

/** Calls the sandbox's admin API (the customer's side: paying, the clock). */
async function admin(path, body = {}) {
  const response = await fetch(new URL(path, BASE), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

/** Awaits `call`, which must throw `errorClass` with `code` and `param` when given. */
async function expectError(errorClass, call, { code, param } = {}) {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof errorClass, `${error.constructor.name}: ${error.message}`);
    if (code !== undefined) assert.equal(error.code, code, error.message);
    if (param !== undefined) assert.equal(error.param, param, error.message);
    return error;
  }
  throw new assert.AssertionError({ message: `expected ${errorClass.name}` });
}

check('prices create retrieve list update', async () => {
  const price = await stripe.prices.create({
    currency: 'usd',
    unit_amount: 1500,
    recurring: { interval: 'month' },
    product_data: { name: 'Pro' },
    metadata: { tier: 'pro' },
  });
  assert.ok(price.id.startsWith('price_'));
  assert.equal(price.recurring.interval, 'month');
  ids.price = price.id;
  const expanded = await stripe.prices.retrieve(price.id, { expand: ['product'] });
  assert.equal(expanded.product.name, 'Pro');
  const listed = await stripe.prices.list({ type: 'recurring' });
  assert.ok(listed.data.some((p) => p.id === price.id));
  assert.equal((await stripe.prices.update(price.id, { nickname: 'monthly' })).nickname, 'monthly');
  const oneTime = await stripe.prices.create({
    currency: 'usd',
    unit_amount: 700,
    product_data: { name: 'Setup' },
  });
  ids.oneTimePrice = oneTime.id;
});

check('coupons and promotion codes', async () => {
  const coupon = await stripe.coupons.create({ percent_off: 20, duration: 'forever' });
  ids.coupon = coupon.id;
  assert.equal((await stripe.coupons.retrieve(coupon.id)).percent_off, 20);
  assert.ok((await stripe.coupons.list()).data.some((c) => c.id === coupon.id));
  const renamed = await stripe.coupons.update(coupon.id, { name: 'Friends' });
  assert.equal(renamed.name, 'Friends');
  const code = await stripe.promotionCodes.create({
    promotion: { type: 'coupon', coupon: coupon.id },
    code: 'NODE20',
  });
  ids.promotionCode = code.id;
  assert.equal((await stripe.promotionCodes.retrieve(code.id)).code, 'NODE20');
  const listed = await stripe.promotionCodes.list({ code: 'node20' });
  assert.deepEqual(listed.data.map((c) => c.id), [code.id]);
  assert.equal((await stripe.promotionCodes.update(code.id, { active: false })).active, false);
  assert.equal((await stripe.promotionCodes.update(code.id, { active: true })).active, true);
});

check('customers create retrieve update list search', async () => {
  const customer = await stripe.customers.create({ email: 'grace@shop.test', name: 'Grace' });
  ids.customer = customer.id;
  assert.equal((await stripe.customers.retrieve(customer.id)).email, 'grace@shop.test');
  const renamed = await stripe.customers.update(customer.id, { name: 'Grace H.' });
  assert.equal(renamed.name, 'Grace H.');
  assert.ok((await stripe.customers.list()).data.some((c) => c.id === customer.id));
  const found = await stripe.customers.search({ query: "email:'grace@shop.test'" });
  assert.deepEqual(found.data.map((c) => c.id), [customer.id]);
});

check('checkout payment session, line items, update and pay', async () => {
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'payment',
      success_url: SUCCESS_URL,
      line_items: [
        {
          price_data: { currency: 'usd', unit_amount: 2000, product_data: { name: 'T-shirt' } },
          quantity: 2,
        },
        { price: ids.oneTimePrice, quantity: 1 },
      ],
      metadata: { order_id: '42' },
      // stripe-node sends null as an empty value: "not set".
      client_reference_id: null,
      payment_intent_data: { metadata: { order_id: '42' }, description: 'Order 42' },
    },
    { idempotencyKey: 'node-session-1' },
  );
  assert.equal(session.status, 'open');
  assert.equal(session.amount_total, 4700);
  ids.session = session.id;
  const items = await stripe.checkout.sessions.listLineItems(session.id);
  assert.deepEqual(items.data.map((item) => item.quantity), [2, 1]);
  assert.ok(items.data[0].price.created > 0);
  const updated = await stripe.checkout.sessions.update(session.id, { metadata: { step: '2' } });
  assert.equal(updated.metadata.step, '2');
  const listed = await stripe.checkout.sessions.list({ limit: 5 });
  assert.ok(listed.data.some((s) => s.id === session.id));
  await admin(`/__sandbox/checkouts/${session.id}/pay`, { email: 'grace@shop.test' });
  const paid = await stripe.checkout.sessions.retrieve(session.id, {
    expand: ['payment_intent', 'line_items'],
  });
  assert.equal(paid.payment_status, 'paid');
  assert.equal(paid.payment_intent.metadata.order_id, '42');
  ids.paidIntent = paid.payment_intent.id;
});

check('refunds create retrieve list', async () => {
  const refund = await stripe.refunds.create({ payment_intent: ids.paidIntent, amount: 500 });
  assert.equal(refund.status, 'succeeded');
  assert.equal((await stripe.refunds.retrieve(refund.id)).amount, 500);
  const listed = await stripe.refunds.list({ payment_intent: ids.paidIntent });
  assert.deepEqual(listed.data.map((r) => r.id), [refund.id]);
});

check('session expire', async () => {
  const session = await stripe.checkout.sessions.create({
    mode: 'payment',
    success_url: SUCCESS_URL,
    line_items: [{ price: ids.oneTimePrice, quantity: 1 }],
  });
  assert.equal((await stripe.checkout.sessions.expire(session.id)).status, 'expired');
});

check('payment intents confirm update capture cancel list', async () => {
  const intent = await stripe.paymentIntents.create({
    amount: 1099,
    currency: 'usd',
    automatic_payment_methods: { enabled: true },
    metadata: { order_id: '6735' },
  });
  assert.equal(intent.status, 'requires_payment_method');
  const described = await stripe.paymentIntents.update(intent.id, { description: 'Mug' });
  assert.equal(described.description, 'Mug');
  const confirmed = await stripe.paymentIntents.confirm(intent.id, {
    payment_method: 'pm_card_visa',
  });
  assert.equal(confirmed.status, 'succeeded');
  assert.ok((await stripe.paymentIntents.retrieve(intent.id)).latest_charge);
  const manual = await stripe.paymentIntents.create({
    amount: 2500,
    currency: 'eur',
    capture_method: 'manual',
    confirm: true,
    payment_method: 'pm_card_visa',
  });
  assert.equal(manual.status, 'requires_capture');
  assert.equal((await stripe.paymentIntents.capture(manual.id)).status, 'succeeded');
  const abandoned = await stripe.paymentIntents.create({ amount: 800, currency: 'usd' });
  const canceled = await stripe.paymentIntents.cancel(abandoned.id, {
    cancellation_reason: 'abandoned',
  });
  assert.equal(canceled.status, 'canceled');
  const listed = await stripe.paymentIntents.list({ limit: 10 });
  assert.ok(listed.data.some((p) => p.id === intent.id));
});

check('a declined card throws StripeCardError', async () => {
  const intent = await stripe.paymentIntents.create({ amount: 1099, currency: 'usd' });
  const error = await expectError(
    Stripe.errors.StripeCardError,
    () => stripe.paymentIntents.confirm(intent.id, { payment_method: 'pm_card_chargeDeclined' }),
    { code: 'card_declined' },
  );
  assert.equal(error.decline_code, 'generic_decline');
  assert.equal(error.payment_intent.last_payment_error.payment_method.card.last4, '0002');
});

check('subscription lifecycle', async () => {
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    success_url: SUCCESS_URL,
    customer: ids.customer,
    line_items: [{ price: ids.price, quantity: 1 }],
    discounts: [{ promotion_code: ids.promotionCode }],
  });
  await admin(`/__sandbox/checkouts/${session.id}/pay`);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  const subscription = await stripe.subscriptions.retrieve(done.subscription);
  assert.equal(subscription.status, 'active');
  assert.ok((await stripe.subscriptions.list()).data.some((s) => s.id === subscription.id));
  const item = subscription.items.data[0];
  const updated = await stripe.subscriptions.update(subscription.id, {
    items: [{ id: item.id, quantity: 2 }],
  });
  assert.equal(updated.items.data[0].quantity, 2);
  const scheduled = await stripe.subscriptions.update(subscription.id, {
    cancel_at_period_end: true,
  });
  assert.equal(scheduled.cancel_at_period_end, true);
  const resumed = await stripe.subscriptions.update(subscription.id, {
    cancel_at_period_end: false,
  });
  assert.equal(resumed.cancel_at_period_end, false);
  const preview = await stripe.invoices.createPreview({ subscription: subscription.id });
  assert.ok(preview.id.startsWith('upcoming_in_'));
  const invoices = await stripe.invoices.list({ subscription: subscription.id });
  assert.equal((await stripe.invoices.retrieve(invoices.data[0].id)).status, 'paid');
  const portal = await stripe.billingPortal.sessions.create({
    customer: ids.customer,
    return_url: 'https://shop.test/account',
  });
  assert.ok(portal.url.startsWith(BASE.origin));
  // Only a paused subscription resumes.
  await expectError(Stripe.errors.StripeInvalidRequestError, () =>
    stripe.subscriptions.resume(subscription.id),
  );
  assert.equal((await stripe.subscriptions.cancel(subscription.id)).status, 'canceled');
});

check('a setup session creates a SetupIntent', async () => {
  const session = await stripe.checkout.sessions.create({
    mode: 'setup',
    currency: 'usd',
    success_url: SUCCESS_URL,
    customer: ids.customer,
    setup_intent_data: { metadata: { purpose: 'card_on_file' } },
  });
  await admin(`/__sandbox/checkouts/${session.id}/pay`);
  const done = await stripe.checkout.sessions.retrieve(session.id);
  const intent = await stripe.setupIntents.retrieve(done.setup_intent);
  assert.equal(intent.status, 'succeeded');
  assert.equal(intent.metadata.purpose, 'card_on_file');
});

check('errors throw the SDK error classes', async () => {
  await expectError(
    Stripe.errors.StripeInvalidRequestError,
    () => stripe.checkout.sessions.create({ mode: 'payment', bogus: '1' }),
    { code: 'parameter_unknown', param: 'bogus' },
  );
  const refused = await expectError(
    Stripe.errors.StripeInvalidRequestError,
    () => stripe.checkout.sessions.create({ mode: 'payment', automatic_tax: { enabled: true } }),
    { param: 'automatic_tax[enabled]' },
  );
  assert.match(refused.message, /not emulated by the payswitch sandbox/);
  await expectError(
    Stripe.errors.StripeInvalidRequestError,
    () => stripe.checkout.sessions.retrieve('cs_test_missing'),
    { code: 'resource_missing' },
  );
  await expectError(
    Stripe.errors.StripeInvalidRequestError,
    () => stripe.prices.create({ currency: 'xyz', unit_amount: 100, product_data: { name: 'X' } }),
    { param: 'currency' },
  );
  await expectError(Stripe.errors.StripeAuthenticationError, () =>
    clientWith('sk_test_wrong').customers.list(),
  );
  await stripe.coupons.create({ percent_off: 5 }, { idempotencyKey: 'node-idem' });
  await expectError(Stripe.errors.StripeIdempotencyError, () =>
    stripe.coupons.create({ percent_off: 6 }, { idempotencyKey: 'node-idem' }),
  );
});

async function main() {
  let passed = 0;
  let failed = 0;
  for (const { name, run } of checks) {
    try {
      await run();
      passed += 1;
      console.log(`ok   ${name}`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${name}\n${error && error.stack ? error.stack : error}`);
    }
  }
  console.log(`stripe-node ${Stripe.PACKAGE_VERSION}: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
