// Opens Swagger UI in Debian's Chromium and uses "Try it out" the way a
// developer would: every documented operation is listed, and executing
// requests from the page gets real 200 answers from the server.
//
// Usage: node swagger-ui.js http://127.0.0.1:PORT SCREENSHOT.png
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

const [base, screenshot] = process.argv.slice(2);

async function tryItOut(page, operationId, fill) {
  const block = page.locator(`[id$="-${operationId}"]`);
  await block.locator('.opblock-summary').click();
  await block.locator('button.try-out__btn').click();
  for (const [placeholder, value] of fill) {
    await block.locator(`input[placeholder="${placeholder}"]`).fill(value);
  }
  await block.locator('button.execute').click();
  const status = block.locator('.live-responses-table tbody .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  const body = await block.locator('.live-responses-table .response-col_description pre').first().textContent();
  const url = await block.locator('.request-url pre').first().textContent();
  return { status: (await status.textContent()).trim(), body, url };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await page.goto(`${base}/docs/`);
    await page.waitForSelector('.opblock-summary', { timeout: 15000 });

    const spec = await (await fetch(`${base}/api/v1/openapi.json`)).json();
    const documented = Object.keys(spec.paths).sort();
    const shown = [...new Set(await page.$$eval('.opblock-summary-path',
      els => els.map(e => e.getAttribute('data-path'))))].sort();
    assert.deepEqual(shown, documented, 'Swagger UI lists every documented path');

    const list = await tryItOut(page, 'list_articles', [['limit', '3'], ['topic', 'europe']]);
    assert.equal(list.status, '200', list.body);
    const articles = JSON.parse(list.body);
    assert.equal(articles.data.length, 3, list.url);

    const article = await tryItOut(page, 'get_article', [['slug', articles.data[0].slug]]);
    assert.equal(article.status, '200', article.body);
    assert.equal(JSON.parse(article.body).slug, articles.data[0].slug);

    const missing = await tryItOut(page, 'get_topic', [['slug', 'no-such-topic']]);
    assert.equal(missing.status, '404', missing.body);

    // A protected endpoint answers 401 until "Authorize" gets a token from login.
    const email = `swagger-${Date.now()}@example.com`;
    const password = 'correct horse battery';
    const registered = await fetch(`${base}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password, display_name: 'Swagger Tester' }),
    });
    assert.equal(registered.status, 201);
    const login = await (await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    })).json();

    const anonymous = await tryItOut(page, 'get_me', []);
    assert.equal(anonymous.status, '401', anonymous.body);

    await page.locator('button.btn.authorize').first().click();
    // The dialog lists every scheme (admin_bearer, api_key, bearer): fill in the bearer one.
    const bearer = page.locator('.modal-ux .auth-container').filter({
        has: page.locator('h4', { hasText: /^bearer\b/ }),
    });
    await bearer.locator('input').first().fill(login.access_token);
    await bearer.locator('button.authorize').first().click();
    await page.locator('.modal-ux button.btn-done').first().click();

    const me = page.locator('[id$="-get_me"]');
    await me.locator('button.execute').click();
    await me.locator('.live-responses-table tbody .response-col_status').first().waitFor({ timeout: 15000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('[id$="-get_me"] .live-responses-table tbody .response-col_status')]
        .some((cell) => cell.textContent.trim() === '200'),
      null,
      { timeout: 15000 },
    );
    const meBody = await me.locator('.live-responses-table .response-col_description pre').first().textContent();
    assert.equal(JSON.parse(meBody).email, email);

    await me.locator('.live-responses-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshot });
    console.log(`swagger-ui: ${shown.length} paths listed; Try it out answered 200/200/404; /me 401 before Authorize and 200 after; screenshot at ${screenshot}`);
  } finally {
    await browser.close();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
