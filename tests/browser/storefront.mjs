// Buys on the payswitch storefront example in headless Chromium, as a customer would:
// product page → Buy (or Subscribe) → the gateway's hosted pay page → card 4242 → the
// storefront's success page, which must say "paid"; then reads the order's JSON and checks
// that it was marked paid exactly once.
//
// With `account`, it subscribes to Pro monthly the same way, then follows the success page's
// link to the account page, clicks "Cancel at period end" and checks that the page shows the
// scheduled cancellation, then clicks "Resume" and checks that it is active again with no
// cancellation.
//
// For a gateway migration, the purchase is split around the deploy: `open` clicks Buy and
// stops on the gateway's pay page (a customer who left the tab open), printing its URL; after
// the storefront restarts on the new configuration, `pay <pay-url>` comes back to that page,
// pays, and checks the storefront's success page and order as `buy` does.
//
//   node storefront.mjs <storefront-url> [buy|subscribe|account|open]
//   node storefront.mjs <storefront-url> pay <pay-url>
//
// Prints one JSON line describing the outcome; exits non-zero on failure. Every request to a
// host other than 127.0.0.1 is aborted, so the test never touches a real network.
import { chromium } from 'playwright-core';

const [base, action = 'buy', payAt] = process.argv.slice(2);
const actions = ['buy', 'subscribe', 'account', 'open', 'pay'];
if (!base || !actions.includes(action) || (action === 'pay') !== Boolean(payAt)) {
  console.error('usage: node storefront.mjs <storefront-url> [buy|subscribe|account|open]');
  console.error('       node storefront.mjs <storefront-url> pay <pay-url>');
  process.exit(2);
}

// A bound on the whole run, whatever hangs.
setTimeout(() => {
  console.error('storefront.mjs: timed out after 60 s');
  process.exit(1);
}, 60000).unref();

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  timeout: 30000,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-quic',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
  ],
});

// What the account page says about the subscription.
async function subscriptionState(page) {
  const status = page.locator('#subscription-status');
  await status.waitFor();
  const notice = page.locator('#cancel-notice');
  return {
    status: await status.getAttribute('data-status'),
    cancelScheduled: await status.getAttribute('data-cancel-scheduled'),
    cancelNotice: (await notice.count()) > 0 ? (await notice.innerText()).trim() : null,
    plan: await page.locator('#subscription-plan').getAttribute('data-sku'),
  };
}

// Clicks an account page's button and waits for the 303 back to the account page, loaded.
async function clickAccountButton(page, name) {
  const backToAccount = (url) => url.pathname.startsWith('/account/') && url.searchParams.has('done');
  const [response] = await Promise.all([
    page.waitForResponse((response) => response.request().method() === 'GET' && backToAccount(new URL(response.url()))),
    page.waitForURL(backToAccount, { waitUntil: 'load' }),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  if (response.status() !== 200) {
    throw new Error(`after "${name}" the account page answered ${response.status()}`);
  }
  const error = page.locator('#account-error');
  if ((await error.count()) > 0) {
    throw new Error(`after "${name}" the account page says: ${await error.innerText()}`);
  }
  return subscriptionState(page);
}

async function paymentStatus(page) {
  const status = page.locator('#payment-status');
  await status.waitFor();
  return { value: await status.getAttribute('data-status'), text: (await status.innerText()).trim() };
}

// The customer's visit for `action`; returns what the script prints.
async function run(page) {
  let payUrl;
  if (action === 'pay') {
    // The pay page of a checkout opened before the storefront restarted.
    const response = await page.goto(payAt);
    if (!response || response.status() !== 200) {
      throw new Error(`the pay page answered ${response && response.status()}`);
    }
    payUrl = page.url();
  } else {
    const response = await page.goto(`${base}/`);
    if (!response || response.status() !== 200) {
      throw new Error(`product page answered ${response && response.status()}`);
    }
    const button = page.getByRole('button', {
      name: action === 'buy' || action === 'open' ? 'Buy Pro licence' : 'Subscribe to Pro monthly',
      exact: true,
    });
    await Promise.all([
      page.waitForURL((url) => url.pathname.startsWith('/pay/')),
      button.click(),
    ]);
    payUrl = page.url();
  }
  const total = (await page.locator('#total').innerText()).trim();
  if (action === 'open') {
    // The customer leaves the page open; the deploy happens now.
    return { outcome: 'opened', payUrl, total };
  }

  await page.getByLabel('Email').fill('storefront@shop.test');
  await page.getByLabel('Card number').fill('4242 4242 4242 4242');
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(`${base}/success`)),
    page.getByRole('button', { name: /^Pay / }).click(),
  ]);
  const successUrl = page.url();
  const status = await paymentStatus(page);
  if (status.value !== 'paid') {
    throw new Error(`the success page says ${status.value}: ${status.text}`);
  }
  const orderId = (await page.locator('#order-id').innerText()).trim();

  // Coming back to the success page confirms again and changes nothing.
  await page.reload();
  const again = await paymentStatus(page);
  if (again.value !== 'paid') {
    throw new Error(`after a reload the success page says ${again.value}`);
  }

  const orderResponse = await page.request.get(`${base}/orders/${encodeURIComponent(orderId)}`);
  if (orderResponse.status() !== 200) {
    throw new Error(`/orders/${orderId} answered ${orderResponse.status()}`);
  }
  const order = await orderResponse.json();
  if (order.status !== 'paid' || order.times_marked_paid !== 1) {
    throw new Error(`order ${orderId} is ${order.status}, marked paid ${order.times_marked_paid} times`);
  }
  if (action !== 'account') {
    return { outcome: 'paid', orderId, payUrl, successUrl, total, status: status.text, order };
  } else {
    // The success page links the account page.
    await Promise.all([
      page.waitForURL((url) => url.pathname.startsWith('/account/')),
      page.getByRole('link', { name: 'Manage your subscription' }).click(),
    ]);
    const accountUrl = page.url();
    const before = await subscriptionState(page);
    if (before.status !== 'active' || before.cancelScheduled !== 'false') {
      throw new Error(`the new subscription is ${JSON.stringify(before)}`);
    }
    const canceled = await clickAccountButton(page, 'Cancel at period end');
    if (canceled.cancelScheduled !== 'true' || !canceled.cancelNotice) {
      throw new Error(`after "Cancel at period end" the page shows ${JSON.stringify(canceled)}`);
    }
    if ((await page.getByRole('button', { name: 'Cancel at period end', exact: true }).count()) !== 0) {
      throw new Error('"Cancel at period end" is still offered while a cancellation is scheduled');
    }
    const resumed = await clickAccountButton(page, 'Resume');
    if (resumed.status !== 'active' || resumed.cancelScheduled !== 'false' || resumed.cancelNotice) {
      throw new Error(`after "Resume" the page shows ${JSON.stringify(resumed)}`);
    }
    const accountResponse = await page.request.get(`${base}/account/${encodeURIComponent(orderId)}.json`);
    const account = await accountResponse.json();
    return { outcome: 'resumed', orderId, payUrl, accountUrl, before, canceled, resumed, account };
  }
}

let exitCode = 0;
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.setDefaultNavigationTimeout(15000);
  console.log(JSON.stringify(await run(page)));
} catch (error) {
  console.error(String(error && error.stack ? error.stack : error));
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
