// Drives Creem's official TypeScript SDK (`creem` on npm, pinned in package-lock.json)
// against a running payswitch-sandbox: create and retrieve every object, error responses, the
// subscription lifecycle and the clock (renewals, a declined renewal recovered, one canceled).
// The SDK validates every response against its own schemas, so a field the sandbox shapes
// differently from Creem fails here. Every webhook is verified with `creem/webhooks` and parsed
// with the SDK's event schemas.
//
// Usage: node creem.mjs <sandbox base URL> <Creem API key> <Creem webhook secret>
// Prints one JSON line last: {"ok": true, "calls": …, "events": …, "types": […]}.

import assert from "node:assert/strict";
import http from "node:http";

import { Creem } from "creem";
import { CreemError } from "creem/models/errors";
import { parseWebhookEventEntity, verifyWebhookSignature } from "creem/webhooks";

const [baseUrl, apiKey, webhookSecret] = process.argv.slice(2);
if (!baseUrl || !apiKey || !webhookSecret) {
  console.error("usage: node creem.mjs <base URL> <API key> <webhook secret>");
  process.exit(2);
}

const DAY = 24 * 60 * 60;
const creem = new Creem({ apiKey, serverURL: baseUrl });
let calls = 0;

/** Runs one SDK call, counting it. */
async function sdk(call) {
  calls += 1;
  return call();
}

/** Runs an SDK call that must fail with `status`, and returns the error. */
async function refused(status, call) {
  calls += 1;
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof CreemError, `${error}`);
    assert.equal(error.statusCode, status, error.message);
    return error;
  }
  assert.fail(`expected HTTP ${status}`);
}

/** Calls the sandbox's admin API (not Creem's: pay, clock, webhook endpoints). */
async function admin(path, body) {
  const response = await fetch(`${baseUrl}/__sandbox/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
  const json = await response.json();
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

const received = [];

/** Receives webhooks: verifies the signature, parses the event with the SDK's schemas. */
function startReceiver() {
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        await verifyWebhookSignature(body, request.headers, webhookSecret);
        const event = parseWebhookEventEntity(body);
        received.push({ event, raw: JSON.parse(body) });
        response.writeHead(200).end();
      } catch (error) {
        received.push({ error: `${error}`, body });
        response.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** Waits until `count` webhooks have arrived (or 10 s have passed). */
async function eventsArrived(count) {
  for (let waited = 0; waited < 10_000 && received.length < count; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return received.length;
}

async function pay(checkoutId, card, email) {
  return admin(`checkouts/${checkoutId}/pay`, { card, email });
}

async function catalog() {
  const product = await sdk(() =>
    creem.products.create({
      name: "Course",
      description: "A video course",
      price: 4900,
      currency: "USD",
      billingType: "onetime",
      taxMode: "exclusive",
    }),
  );
  assert.match(product.id, /^prod_/);
  assert.equal(product.imageUrl, undefined, "absent, not null");
  const fetched = await sdk(() => creem.products.get(product.id));
  assert.equal(fetched.name, "Course");
  const plan = await sdk(() =>
    creem.products.create({
      name: "Team",
      description: "Team plan",
      price: 1000,
      currency: "EUR",
      billingType: "recurring",
      billingPeriod: "every-month",
      taxMode: "exclusive",
      imageUrl: "https://shop.test/team.png",
    }),
  );
  assert.equal(plan.imageUrl, "https://shop.test/team.png");
  const page = await sdk(() => creem.products.search(1, 10));
  assert.ok(page.result.items.some((item) => item.id === plan.id));
  const discount = await sdk(() =>
    creem.discounts.create({
      name: "Launch",
      code: "LAUNCH10",
      type: "percentage",
      percentage: 10,
      duration: "repeating",
      durationInMonths: 3,
      appliesToProducts: [plan.id, product.id],
    }),
  );
  assert.equal((await sdk(() => creem.discounts.get(discount.id))).code, "LAUNCH10");
  assert.equal((await sdk(() => creem.discounts.get(undefined, "launch10"))).id, discount.id);
  return { product, plan };
}

async function customers() {
  const customer = await sdk(() =>
    creem.customers.create({ email: "ada@shop.test", name: "Ada", metadata: { tier: "gold" } }),
  );
  assert.match(customer.id, /^cust_/);
  assert.equal((await sdk(() => creem.customers.retrieve(customer.id))).email, "ada@shop.test");
  assert.equal((await sdk(() => creem.customers.retrieve(undefined, "ada@shop.test"))).id, customer.id);
  const renamed = await sdk(() => creem.customers.update({ customerId: customer.id, name: "Ada L." }));
  assert.equal(renamed.name, "Ada L.");
  const list = await sdk(() => creem.customers.list(1, 10));
  assert.ok(list.result.items.some((item) => item.id === customer.id));
  const links = await sdk(() => creem.customers.generateBillingLinks({ customerId: customer.id }));
  assert.match(links.customerPortalLink, /\/portal\//);
}

async function errors(product) {
  await refused(404, () => creem.products.get("prod_nope"));
  await refused(404, () => creem.subscriptions.get("sub_nope"));
  await refused(404, () => creem.checkouts.retrieve("ch_nope"));
  const invalid = await refused(400, () =>
    creem.checkouts.create({ productId: product.id, discountCode: "NOPE" }),
  );
  assert.ok(invalid.body.includes("trace_id"), invalid.body);
  const wrongKey = new Creem({ apiKey: "creem_test_wrong", serverURL: baseUrl });
  await refused(403, () => wrongKey.products.search(1, 10));
}

/** A one-time purchase with tax and a discount, then its refund. */
async function oneTime(product) {
  const checkout = await sdk(() =>
    creem.checkouts.create({
      productId: product.id,
      requestId: "order_1",
      discountCode: "LAUNCH10",
      successUrl: "https://shop.test/done",
      metadata: { userId: "u1" },
    }),
  );
  assert.equal(checkout.status, "pending");
  await pay(checkout.id, "4242 4242 4242 4242", "buyer@shop.test");
  const paid = await sdk(() => creem.checkouts.retrieve(checkout.id));
  assert.equal(paid.status, "completed");
  // Merchant of record: 4900 − 490 discount = 4410, tax is 0 without a sandbox rate.
  assert.equal(paid.order.amount, 4900);
  assert.equal(paid.order.discountAmount, 490);
  assert.equal(paid.order.amountPaid, 4410);
  const transaction = await sdk(() => creem.transactions.getById(paid.order.transaction));
  assert.equal(transaction.status, "paid");
  const refund = await sdk(() => creem.transactions.refund({ transactionId: transaction.id }));
  assert.equal(refund.status, "succeeded");
  await refused(400, () => creem.transactions.refund({ transactionId: transaction.id }));
  assert.equal((await sdk(() => creem.transactions.getById(transaction.id))).status, "refunded");
}

/** Subscribes with `card` and returns the subscription. */
async function subscribe(plan, card, email) {
  const checkout = await sdk(() =>
    creem.checkouts.create({ productId: plan.id, units: 2, customer: { email } }),
  );
  await pay(checkout.id, card, email);
  const paid = await sdk(() => creem.checkouts.retrieve(checkout.id));
  return sdk(() => creem.subscriptions.get(paid.subscription.id));
}

async function lifecycle(plan, scale) {
  const changing = await subscribe(plan, "4242 4242 4242 4242", "changes@shop.test");
  assert.equal(changing.status, "active");
  const item = changing.items[0];
  const seats = await sdk(() =>
    creem.subscriptions.update(changing.id, { items: [{ id: item.id, units: 3 }] }),
  );
  assert.equal(seats.items[0].units, 3);
  const upgraded = await sdk(() =>
    creem.subscriptions.upgrade(changing.id, { productId: scale.id }),
  );
  assert.equal(upgraded.product.id, scale.id);
  const scheduled = await sdk(() => creem.subscriptions.cancel(changing.id, { mode: "scheduled" }));
  assert.equal(scheduled.status, "scheduled_cancel");
  assert.equal((await sdk(() => creem.subscriptions.resume(changing.id))).status, "active");
  assert.equal((await sdk(() => creem.subscriptions.pause(changing.id))).status, "paused");
  await refused(400, () => creem.subscriptions.pause(changing.id));
  assert.equal((await sdk(() => creem.subscriptions.resume(changing.id))).status, "active");
  const found = await sdk(() => creem.subscriptions.search(1, 50));
  assert.ok(found.result.items.some((subscription) => subscription.id === changing.id));
  const owned = await sdk(() => creem.customers.listSubscriptions(changing.customer.id));
  assert.equal(owned.items.length, 1);
  const history = await sdk(() => creem.transactions.search(changing.customer.id));
  assert.ok(history.result.items.length >= 2);

  // The clock: the recovering card's first renewal is declined and paid on the retry three
  // days later; the other's every retry is declined and the subscription ends.
  const recovering = await subscribe(plan, "4000 0099 0000 0012", "recovers@shop.test");
  const lapsing = await subscribe(plan, "4000 0099 0000 0004", "lapses@shop.test");
  await admin("clock/advance", { seconds: 32 * DAY });
  const late = await sdk(() => creem.subscriptions.get(lapsing.id));
  assert.ok(["past_due", "canceled"].includes(late.status), late.status);
  await admin("clock/advance", { seconds: 10 * DAY });
  const recovered = await sdk(() => creem.subscriptions.get(recovering.id));
  assert.equal(recovered.status, "active");
  assert.ok(recovered.currentPeriodStartDate > recovering.currentPeriodStartDate);
  const ended = await sdk(() => creem.subscriptions.get(lapsing.id));
  assert.equal(ended.status, "canceled");
  assert.ok(ended.canceledAt instanceof Date);
  const declined = await sdk(() => creem.transactions.search(ended.customer.id));
  assert.equal(declined.result.items.filter((charge) => charge.status === "declined").length, 4);
  assert.equal((await sdk(() => creem.subscriptions.cancel(changing.id, {}))).status, "canceled");
}

// A clean slate (objects, logs, clock), so the script can run again on the same sandbox.
await admin("reset");
const server = await startReceiver();
const { port } = server.address();
await admin("webhooks", { gateway: "creem", url: `http://127.0.0.1:${port}/creem` });

const { product, plan } = await catalog();
const scale = await sdk(() =>
  creem.products.create({
    name: "Scale",
    description: "Scale plan",
    price: 3000,
    currency: "EUR",
    billingType: "recurring",
    billingPeriod: "every-month",
  }),
);
await customers();
await errors(product);
await oneTime(product);
await lifecycle(plan, scale);

const counts = await (await fetch(`${baseUrl}/__sandbox/counts`)).json();
await eventsArrived(counts.webhook_events);
server.close();
const failures = received.filter((entry) => entry.error);
assert.deepEqual(failures, [], "every webhook verifies and parses");
assert.equal(received.length, counts.webhook_events);
const types = [...new Set(received.map((entry) => entry.event.eventType))].sort();
for (const expected of [
  "checkout.completed",
  "refund.created",
  "subscription.active",
  "subscription.canceled",
  "subscription.expired",
  "subscription.paid",
  "subscription.past_due",
  "subscription.paused",
  "subscription.scheduled_cancel",
  "subscription.update",
]) {
  assert.ok(types.includes(expected), `${expected} in ${types}`);
}
console.log(JSON.stringify({ ok: true, calls, events: received.length, types }));
