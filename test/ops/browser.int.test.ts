import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { toolAvailable } from '../support/required-tool.js';
import { Stack, urls } from '../support/stack.js';

/*
 * The operator UIs in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download). Without /usr/bin/chromium the suite is skipped with a loud warning, except under
 * CI=true, where it fails: CI installs it.
 */

const CHROMIUM = '/usr/bin/chromium';
const ADMIN_TOKEN = 'admin-secret-1';
const hasChromium = toolAvailable({
  path: CHROMIUM,
  skips: 'the dashboard and /docs browser tests',
  install: 'apt-get install -y chromium',
});

let stack: Stack;
let browser: Browser;
/** Hosts other than the API the pages tried to reach; they are refused, the tests run offline. */
let outside: string[];

async function newContext(credentials?: { username: string; password: string }): Promise<BrowserContext> {
  const context = await browser.newContext(credentials ? { httpCredentials: credentials } : {});
  const apiHost = new URL(stack.apiUrl).host;
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.host === apiHost) return route.continue();
    outside.push(url.host);
    return route.abort();
  });
  return context;
}

(hasChromium ? describe : describe.skip)('operator UIs in Chromium', () => {
  beforeAll(async () => {
    stack = await Stack.start({ worker: false, apiEnv: { ADMIN_TOKEN } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('when an operator logs in to /admin/queues, then the batches queue shows its counts and a batch opens to its detail', async () => {
    outside = [];
    // No worker runs: the job's 3 batches wait in the queue, where the dashboard shows them.
    const job = await stack.submit({ file_urls: urls(250, 'dashboard') });
    const context = await newContext({ username: 'ops', password: ADMIN_TOKEN });
    const page = await context.newPage();

    await page.goto(`${stack.apiUrl}/admin/queues`);
    const queueLink = page.getByRole('link', { name: 'batches', exact: true }).first();
    const card = page.locator('li', { has: queueLink });
    await card.getByRole('button', { name: '3 Jobs' }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: '/tmp/batchscribe-dashboard-overview.png', fullPage: true });

    await queueLink.click();
    await page.waitForURL(/\/admin\/queues\/queue\/batches/);
    await page
      .getByText(/^prioritized/i)
      .first()
      .click();
    const batchId = `${job.id}-b0`;
    await page.getByRole('link', { name: batchId, exact: true }).click();
    await page.waitForURL(new RegExp(`/admin/queues/queue/batches/${batchId}(\\?|$)`), { timeout: 15_000 });
    await page.getByText(job.id).first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: '/tmp/batchscribe-dashboard-batch.png', fullPage: true });
    // Read-only: nothing on the page can retry, promote, clean or remove a batch.
    expect(await page.getByRole('button', { name: /^(retry|promote|clean|remove|delete)/i }).count()).toBe(0);
    // Nothing outside this server: not even bull-board's Google Fonts link.
    expect(outside).toEqual([]);
    await context.close();
  });

  it('when the browser logs in with a wrong password, then the dashboard is refused', async () => {
    outside = [];
    const context = await newContext({ username: 'ops', password: 'not-the-token' });
    const page = await context.newPage();
    const res = await page.goto(`${stack.apiUrl}/admin/queues`);
    expect(res?.status()).toBe(401);
    expect(await page.content()).not.toContain('batches');
    await context.close();
  });

  it('when /docs is opened, then the API reference renders offline and shows POST /v1/jobs', async () => {
    outside = [];
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${stack.apiUrl}/docs`);
    expect(page.url()).toBe(`${stack.apiUrl}/docs/`);
    const operation = page.locator('.opblock-post', { has: page.locator('.opblock-summary-path[data-path="/v1/jobs"]') });
    await operation.waitFor({ timeout: 20_000 });
    await operation.getByText('Submit a job').first().waitFor();
    await operation.locator('.opblock-summary-control').click();
    await operation.getByText('idempotency-key').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: '/tmp/batchscribe-docs.png', fullPage: false });
    expect(await page.title()).toBe('batchscribe API reference');
    // batchscribe's page, not swagger-ui's: no Swagger top bar or logo.
    expect(await page.locator('.swagger-ui .topbar').isVisible()).toBe(false);
    expect(outside).toEqual([]);
    await context.close();
  });
});
