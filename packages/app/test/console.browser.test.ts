import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startNatsForTests } from '@shop/platform/testing';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { call } from './http-call.ts';
import { startTopology, type RunningTopology } from './topology.ts';

/**
 * The operators' console (/admin) in a real browser (Chromium through playwright-core), against
 * two processes: `main` hosts every module and reaches a copy of orders (split and shadow), `copy`
 * hosts orders. Writes a screenshot of each view: to docs/console/ with UPDATE_SCREENSHOTS=1 (what
 * the docs show), else to .tmp/console/ (so a test run leaves the checkout as it was).
 */
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS === '1' ? '../../../docs/console/' : '../../../.tmp/console/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.CI) throw new Error(`console browser test: no ${CHROMIUM} under CI (apt-get install chromium; .ci/run does it as root)`);
  console.warn(`\n!!! console.browser.test.ts SKIPPED: no ${CHROMIUM} (apt-get install -y chromium) !!!\n`);
}
const nats = hasChromium ? await startNatsForTests() : undefined;
afterAll(() => nats?.stop());
if (hasChromium && !nats) console.warn('\n!!! console.browser.test.ts SKIPPED: no NATS (set NATS_URL, or put nats-server on PATH) !!!\n');

describe.skipIf(!hasChromium || !nats)('the console at /admin, in Chromium', () => {
  let t: RunningTopology;
  let browser: BrowserContext;
  let profile: string;
  let db: pg.Client;
  let base: string;

  beforeAll(async () => {
    t = await startTopology(
      {
        name: 'console: main with a copy of orders',
        processes: [
          { name: 'main', modules: MODULE_NAMES, env: (url) => ({ ORDERS_URL: url('copy'), ORDERS_SHADOW_URL: url('copy') }) },
          { name: 'copy', modules: ['orders'] },
        ],
      },
      { nats: nats! },
    );
    base = t.url('main');
    db = new pg.Client({ connectionString: t.database.url });
    await db.connect();
    profile = await mkdtemp(path.join(tmpdir(), 'shop-console-chromium-'));
    // A fresh profile (--user-data-dir), given the way playwright wants it.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      viewport: { width: 1200, height: 800 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await db?.end();
    await t?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  async function openWith(token: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${base}/admin`);
    await page.fill('#token', token);
    await page.click('#login button');
    return page;
  }
  /** The view's section, at most 1200×800 (docs/console/<name>.png). */
  async function shot(page: Page, view: string, name = view): Promise<void> {
    const box = await page.locator(`#${view}`).evaluate((el) => {
      const rect = el.getBoundingClientRect();
      return { x: rect.left + (globalThis as any).scrollX, y: rect.top + (globalThis as any).scrollY, width: rect.width, height: rect.height };
    });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, clip: { ...box, width: Math.min(box.width, 1200), height: Math.min(box.height, 800) } });
  }

  it('serves the page without a token, outside the OpenAPI document; weighs and first-renders the module map', async () => {
    let bytes = 0;
    for (const file of ['/admin', '/admin/console.js', '/admin/console.css']) {
      const response = await fetch(`${base}${file}`);
      expect(response.status, file).toBe(200);
      bytes += (await response.arrayBuffer()).byteLength;
    }
    const document = await call(base, 'GET', '/openapi.json');
    expect(Object.keys(document.body.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);

    // Navigation start to the module map on screen: a first tab, then a second (warm) one.
    const firstRender: number[] = [];
    for (let i = 0; i < 2; i += 1) {
      const page = await browser.newPage();
      await page.addInitScript((token) => (globalThis as any).sessionStorage.setItem('shop-admin-token', token), t.adminToken);
      await page.goto(`${base}/admin`);
      await page.locator('#map table').first().waitFor();
      firstRender.push(await page.evaluate(() => performance.now()));
      await page.close();
    }
    console.log(`console: page weight ${bytes} bytes (HTML+JS+CSS, uncompressed); module map visible ${firstRender.map((ms) => ms.toFixed(0)).join(' ms (first tab), ')} ms (second) after navigation start`);
  });

  it('shows every module with its hosts, and a remote percentage set on the page is what the API says', async () => {
    const page = await openWith(t.adminToken);
    for (const module of MODULE_NAMES) await expect.poll(() => page.locator(`#map tr[data-module="${module}"]`).count()).toBe(1);
    // Hosted by both processes (a process is named by the modules it hosts).
    expect(await page.locator('#map tr[data-module="orders"] .tag').allInnerTexts()).toEqual(expect.arrayContaining(['orders', MODULE_NAMES.join('+')]));
    expect(await page.locator('#map tr[data-module="payments"] .tag').allInnerTexts()).toContain(MODULE_NAMES.join('+'));

    const row = page.locator('#controls tr[data-module="orders"]');
    await row.getByLabel('orders remote percent').fill('35');
    await row.getByRole('button', { name: 'Set' }).click();
    await expect.poll(() => page.locator('#status').innerText()).toContain('done');
    const topology = await call(base, 'GET', '/api/admin/topology', { token: t.adminToken });
    expect(topology.body.modules.find((m: { module: string }) => m.module === 'orders').remote_percent).toBe(35);
    expect(await row.getByLabel('orders remote percent').inputValue()).toBe('35');
    await page.close();
  });

  it('shows calls per second between modules and events per second, from what every process recorded', async () => {
    const product = await call(base, 'POST', '/api/products', { token: t.adminToken, body: { sku: `CONSOLE-${randomUUID().slice(0, 8)}`, name: 'Console mug', price_cents: 900, stock_quantity: 100_000 } });
    expect(product.status, JSON.stringify(product.body)).toBe(201);
    const page = await openWith(t.adminToken);
    await page.locator('#map .edges').waitFor();
    /**
     * The rates on the page: orders → inventory (createOrder reads the products), and of those the
     * calls over HTTP, which only the copy of orders makes and records (it reaches inventory in
     * main); requests to orders' routes (recorded by main); OrderCreated published by orders and
     * handled by inventory. All of them non-zero: every process's counts have reached the page.
     */
    const rates = () =>
      page.evaluate(() => {
        const number = (selector: string) => Number((globalThis as any).document.querySelector(selector)?.textContent) || 0;
        return { call: number('#map tr[data-edge="orders inventory"] .rate'), remote: number('#map tr[data-edge="orders inventory"] .remote'), requests: number('#map tr[data-module="orders"] .req'), published: number('#map tr[data-module="orders"] .pub'), handled: number('#map tr[data-module="inventory"] .handled') };
      });
    // Orders keep coming until the page shows them: calls reach the database at the recorder's next flush (10 s).
    let driving = true;
    const traffic = (async () => {
      while (driving) {
        // A new customer each time: the split is sticky per customer, and orders is 35% remote here.
        const order = await call(base, 'POST', '/api/orders', { token: await t.tokenFor(randomUUID()), body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: randomUUID() } });
        expect(order.status, JSON.stringify(order.body)).toBe(201);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      await expect.poll(async () => Object.values(await rates()).every((rate) => rate > 0), { timeout: 60_000, interval: 1_000 }).toBe(true);
    } finally {
      driving = false;
      await traffic;
    }
    // The same counters from the other process: they are in the database, not in a process.
    const live = await call(t.url('copy'), 'GET', '/api/admin/traffic/live', { token: t.adminToken });
    expect(live.status).toBe(200);
    expect(live.body.calls.some((c: { caller: string; callee: string; calls: number }) => c.caller === 'orders' && c.callee === 'inventory' && c.calls > 0)).toBe(true);
    expect(live.body.events.find((e: { module: string }) => e.module === 'orders').published).toBeGreaterThan(0);
    expect((await call(t.url('copy'), 'GET', '/api/admin/traffic/live', { token: await t.tokenFor(randomUUID()) })).status).toBe(403);
    await shot(page, 'map');
    await page.close();
  }, 90_000);

  it('starts a rollout from the page, shows its steps and state as the API reports them, and aborts it', async () => {
    const rolloutOf = async () => (await call(base, 'GET', '/api/admin/topology/orders/rollout', { token: t.adminToken })).body;
    const page = await openWith(t.adminToken);
    const row = page.locator('#controls tr[data-module="orders"]');
    await row.locator('summary', { hasText: 'Start a rollout' }).click();
    const form = row.locator('form.start');
    expect(await form.locator('input[name=steps]').inputValue()).toBe('1, 5, 25, 50, 100');
    await form.locator('input[name=steps]').fill('10, 50, 100');
    await form.locator('input[name=hold_seconds]').fill('600');
    await form.locator('input[name=min_calls]').fill('50');
    await shot(page, 'controls');
    await form.getByRole('button', { name: 'Start rollout' }).click();
    await expect.poll(() => page.locator('#status').innerText()).toContain('orders rollout start: done');
    expect(await rolloutOf()).toMatchObject({
      state: 'running',
      steps: [10, 50, 100],
      step_index: 0,
      step_percent: 10,
      hold_ms: 600_000,
      limits: { max_error_rate: 0.01, max_mismatch_rate: 0, max_p99_increase_ms: 250, min_calls: 50 },
    });
    await expect.poll(() => row.locator('.rollout .state').innerText()).toBe('running');
    expect(await row.locator('.step').allInnerTexts()).toEqual(['10%', '50%', '100%']);
    expect(await row.locator('.step.now').innerText()).toBe('10%');
    expect(await row.getByLabel('orders remote percent').inputValue()).toBe('10');
    expect(await row.getByLabel('orders remote percent').isDisabled()).toBe(true);
    expect(await row.locator('form.start').count()).toBe(0);
    await shot(page, 'controls', 'rollout');

    await row.getByRole('button', { name: 'Abort rollout' }).click();
    await expect.poll(async () => (await rolloutOf()).state).toBe('aborted');
    await expect.poll(() => row.locator('.rollout .state').innerText()).toBe('aborted');
    expect(await row.getByLabel('orders remote percent').inputValue()).toBe('0');
    expect(await row.locator('summary', { hasText: 'Start a rollout' }).count()).toBe(1);
    await page.close();
  });

  it('lists a failed event and retries it', async () => {
    const id = randomUUID();
    await db.query(`INSERT INTO orders.outbox (id, event_type, event_version, payload, status, attempts, last_error) VALUES ($1, 'ConsoleProbe', 1, '{}', 'failed', 5, 'consumer said no')`, [id]);
    const page = await openWith(t.adminToken);
    const row = page.locator(`#outbox tr[data-event="${id}"]`);
    await row.waitFor();
    expect(await row.innerText()).toContain('consumer said no');
    await shot(page, 'outbox');
    await row.getByRole('button', { name: 'Retry' }).click();
    await eventually(async () => {
      const { rows } = await db.query('SELECT status FROM orders.outbox WHERE id = $1', [id]);
      expect(rows[0].status).not.toBe('failed');
    }, 5_000);
    await expect.poll(() => row.count()).toBe(0);
    await page.close();
  });

  it('shows a shadow mismatch with both answers side by side, and the extraction report', async () => {
    await db.query(
      `INSERT INTO platform.shadow_mismatches (module, method, replica, args, local, shadow) VALUES ('orders', 'getOrder', 'main-test', $1, $2, $3)`,
      [JSON.stringify(['order-1']), JSON.stringify({ status: 'confirmed', total_cents: 1250 }), JSON.stringify({ status: 'pending', total_cents: 1250 })],
    );
    const page = await openWith(t.adminToken);
    const mismatch = page.locator('#mismatches .mismatch').first();
    await mismatch.waitFor();
    const text = await mismatch.innerText();
    expect(text).toContain('orders.getOrder');
    expect(text).toMatch(/"confirmed"[\s\S]*"pending"/);
    await shot(page, 'mismatches');

    await page.locator('#extraction h3').first().waitFor({ timeout: 30_000 });
    for (const module of MODULE_NAMES) expect(await page.locator('#extraction').innerText()).toContain(`${module}:`);
    expect(await page.locator('#extraction').innerText()).toContain('communication independence');
    await shot(page, 'extraction');
    await page.close();
  });

  it("refuses a customer's token: says so and shows no data", async () => {
    const page = await openWith(await t.tokenFor(randomUUID()));
    await expect.poll(() => page.locator('#status').innerText()).toContain("This token is not an admin's");
    expect(await page.locator('#views').isHidden()).toBe(true);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('shop-admin-token'))).toBeNull();
    await page.close();
  });
});
