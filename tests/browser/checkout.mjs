// Drives the payswitch-sandbox hosted pay page in headless Chromium.
//
//   node checkout.mjs pay     <pay-url> <expected-success-url-prefix>
//   node checkout.mjs decline <pay-url>
//
// Prints one JSON line describing the outcome; exits non-zero on failure.
// Every request to a host other than 127.0.0.1 is aborted, so the test
// never touches a real network.
import { chromium } from 'playwright-core';

const [scenario, payUrl, expected] = process.argv.slice(2);
if (!scenario || !payUrl) {
  console.error('usage: node checkout.mjs pay|decline <pay-url> [expected-success-prefix]');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
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

let exitCode = 0;
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const response = await page.goto(payUrl);
  if (!response || response.status() !== 200) {
    throw new Error(`pay page answered ${response && response.status()}`);
  }
  const total = await page.locator('#total').innerText();
  await page.getByLabel('Email').fill('browser@shop.test');

  if (scenario === 'pay') {
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await Promise.all([
      page.waitForURL((url) => url.href.startsWith(expected)),
      page.getByRole('button', { name: /^Pay / }).click(),
    ]);
    console.log(JSON.stringify({ outcome: 'paid', url: page.url(), total }));
  } else if (scenario === 'decline') {
    await page.getByLabel('Card number').fill('4000 0000 0000 0002');
    await page.getByRole('button', { name: /^Pay / }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const message = (await alert.innerText()).trim();
    if (!/declined/i.test(message)) {
      throw new Error(`unexpected alert: ${message}`);
    }
    const email = await page.getByLabel('Email').inputValue();
    console.log(JSON.stringify({ outcome: 'declined', message, url: page.url(), email, total }));
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
} catch (error) {
  console.error(String(error && error.stack ? error.stack : error));
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
