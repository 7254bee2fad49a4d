import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startNatsForTests } from '@shop/platform/testing';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { call } from './http-call.ts';
import { metric } from './metrics-text.ts';
import { startTopology, type Layout, type RunningTopology } from './topology.ts';

/**
 * The control plane with real processes: two replicas of the main process (every module, and a
 * remote copy of orders), and the copy. A switch changed on one replica is followed by the
 * other within the poll bound, survives a restart, and guarded rollouts ramp over a faithful copy
 * and roll back from a diverging one by themselves.
 */
const nats = await startNatsForTests();
afterAll(() => nats?.stop());

const SKIPPED = 'SKIPPED: no NATS (set NATS_URL, or put nats-server on PATH)';
const FOLLOW_BOUND_MS = 2_000;

type Topology = { modules: Array<{ module: string; remote_percent: number | null; shadow: boolean | null; rollout: any }>; replicas: Array<{ id: string; process: string }>; this_process: { replica: string; applied: Array<{ module: string; remote_percent: number | null; shadow: boolean | null }> } };

/** main-a and main-b host every module and reach a copy of orders (split and shadow); `copy` hosts orders. */
function replicatedMain(name: string, copy: { isolated: boolean }): Layout {
  const env = (url: (process: string) => string) => ({ ORDERS_URL: url('copy'), ORDERS_SHADOW_URL: url('copy') });
  return {
    name,
    processes: [
      { name: 'main-a', modules: MODULE_NAMES, env },
      { name: 'main-b', modules: MODULE_NAMES, env },
      { name: 'copy', modules: ['orders'], isolated: copy.isolated },
    ],
  };
}

async function topologyAt(t: RunningTopology, process: string): Promise<Topology> {
  const res = await call(t.url(process), 'GET', '/api/admin/topology', { token: t.adminToken });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
const orders = (view: Topology) => view.modules.find((module) => module.module === 'orders')!;
const appliedOrders = (view: Topology) => view.this_process.applied.find((module) => module.module === 'orders')!;

/** Waits until `process` applies `expected` to orders; returns how long that took. */
async function followTime(t: RunningTopology, process: string, expected: { remote_percent?: number; shadow?: boolean }, since: number): Promise<number> {
  return eventually(async () => {
    expect(appliedOrders(await topologyAt(t, process))).toMatchObject(expected);
    return Date.now() - since;
  }, 10_000, 20);
}

/** Orders placed through main-a, for reads to spread over many sticky keys. */
async function placeOrders(t: RunningTopology, count: number) {
  const product = await call(t.url('main-a'), 'POST', '/api/products', { token: t.adminToken, body: { sku: `CP-${randomUUID().slice(0, 12)}`, name: 'Control mug', price_cents: 700, stock_quantity: 1_000 } });
  expect(product.status, JSON.stringify(product.body)).toBe(201);
  const token = await t.tokenFor(randomUUID());
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const order = await call(t.url('main-a'), 'POST', '/api/orders', { token, body: { items: [{ product_id: product.body.id, quantity: 1 }], idempotency_key: randomUUID() } });
    expect(order.status, JSON.stringify(order.body)).toBe(201);
    ids.push(order.body.id);
  }
  return { ids, token };
}

/** Reads the orders through both replicas until `done` says so (or the time is up); returns the statuses seen. */
async function readUntil(t: RunningTopology, placed: { ids: string[]; token: string }, done: () => Promise<boolean>, timeoutMs: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; Date.now() < deadline; round += 1) {
    await Promise.all(
      placed.ids.map(async (id, i) => {
        const res = await call(t.url(i % 2 === round % 2 ? 'main-a' : 'main-b'), 'GET', `/api/orders/${id}`, { token: placed.token });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }),
    );
    if (round % 5 === 4 && (await done())) break;
  }
  return statuses;
}

describe.skipIf(!nats)(nats ? 'control plane' : `control plane — ${SKIPPED}`, () => {
  describe('two replicas of main and a faithful copy of orders', () => {
    let t: RunningTopology | undefined;
    beforeAll(async () => {
      t = await startTopology(replicatedMain('control plane, faithful copy', { isolated: false }), { nats: nats! });
    });
    afterAll(() => t?.close());

    it('a switch changed on one replica is followed by the other within 2 s, is the same from both, and survives a restart', async () => {
      const before = await topologyAt(t!, 'main-b');
      expect(orders(before)).toMatchObject({ remote_percent: 0, shadow: true });
      expect(before.replicas).toHaveLength(3);

      const followed: number[] = [];
      for (const percent of [40, 75, 0, 25]) {
        const started = Date.now();
        const put = await call(t!.url('main-a'), 'PUT', '/api/admin/topology/orders/remote-percent', { token: t!.adminToken, body: { percent } });
        expect(put.status, JSON.stringify(put.body)).toBe(200);
        expect(put.body.remote_percent).toBe(percent);
        followed.push(await followTime(t!, 'main-b', { remote_percent: percent }, started));
      }
      const started = Date.now();
      expect((await call(t!.url('main-b'), 'PUT', '/api/admin/topology/orders/shadow', { token: t!.adminToken, body: { enabled: false } })).status).toBe(200);
      followed.push(await followTime(t!, 'main-a', { shadow: false }, started));
      console.info(`[control plane] a change was followed by the other replica in ${followed.join(', ')} ms`);
      expect(Math.max(...followed)).toBeLessThan(FOLLOW_BOUND_MS);

      // The same answer from either replica (what is stored; each also says what it applies).
      const [a, b] = [await topologyAt(t!, 'main-a'), await topologyAt(t!, 'main-b')];
      expect(a.modules).toEqual(b.modules);
      expect(a.replicas).toEqual(b.replicas);
      expect(orders(a)).toMatchObject({ remote_percent: 25, shadow: false });

      // A stopped replica leaves the list; restarted, it applies the stored switches, not its environment's.
      await t!.stop('main-b');
      expect((await topologyAt(t!, 'main-a')).replicas).toHaveLength(2);
      await t!.restart('main-b');
      const restarted = await topologyAt(t!, 'main-b');
      expect(appliedOrders(restarted)).toEqual({ module: 'orders', remote_percent: 25, shadow: false });
      expect(restarted.replicas).toHaveLength(3);

      // Only a module some process has a remote copy of can be switched; only admins may.
      expect((await call(t!.url('main-a'), 'PUT', '/api/admin/topology/payments/remote-percent', { token: t!.adminToken, body: { percent: 10 } })).status).toBe(404);
      expect((await call(t!.url('main-a'), 'PUT', '/api/admin/topology/orders/remote-percent', { token: await t!.tokenFor(randomUUID()), body: { percent: 10 } })).status).toBe(403);
      for (const process of ['main-a', 'main-b']) {
        expect((await call(t!.url(process), 'PUT', '/api/admin/topology/orders/shadow', { token: t!.adminToken, body: { enabled: true } })).status).toBe(200);
      }
    });

    it('a rollout ramps orders over to the faithful copy step by step, to 100%, on every replica', async () => {
      expect((await call(t!.url('main-a'), 'PUT', '/api/admin/topology/orders/remote-percent', { token: t!.adminToken, body: { percent: 0 } })).status).toBe(200);
      const placed = await placeOrders(t!, 24);

      // Refused: steps that go down or stop short of 100.
      const bad = await call(t!.url('main-a'), 'POST', '/api/admin/topology/orders/rollout', { token: t!.adminToken, body: { steps: [10, 5, 100], hold_seconds: 1 } });
      expect([bad.status, bad.body.code]).toEqual([400, 'invalid_input']);
      expect(bad.body.detail).toContain('body.steps[1]');

      const started = await call(t!.url('main-a'), 'POST', '/api/admin/topology/orders/rollout', {
        token: t!.adminToken,
        // 25% first: with 24 random order ids, some land in the remote buckets (all 24 missing them: 0.1%).
        body: { steps: [25, 50, 100], hold_seconds: 1, limits: { min_calls: 5, max_p99_increase_ms: 2_000 } },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      expect(started.body).toMatchObject({ state: 'running', step_index: 0, step_percent: 25 });
      // While it steers orders, nobody else does.
      const manual = await call(t!.url('main-b'), 'PUT', '/api/admin/topology/orders/remote-percent', { token: t!.adminToken, body: { percent: 60 } });
      expect([manual.status, manual.body.code]).toEqual([409, 'rollout_running']);
      const again = await call(t!.url('main-b'), 'POST', '/api/admin/topology/orders/rollout', { token: t!.adminToken, body: { steps: [100], hold_seconds: 1 } });
      expect(again.status).toBe(409);

      const rolloutState = async () => (await call(t!.url('main-b'), 'GET', '/api/admin/topology/orders/rollout', { token: t!.adminToken })).body;
      const statuses = await readUntil(t!, placed, async () => (await rolloutState()).state !== 'running', 90_000);
      const rollout = await rolloutState();
      expect(rollout, JSON.stringify(rollout)).toMatchObject({ state: 'completed', step_index: 2, step_percent: 100, reason: null });
      // One step at a time, judged by whichever replica held the rollout's row at that moment.
      const decisions = [...t!.processes.values()].flatMap((started) => started.server.logs()).filter((entry) => String(entry.msg).startsWith('rollout '));
      expect(decisions.map((entry) => entry.msg).sort()).toEqual(['rollout advanced', 'rollout advanced', 'rollout completed', 'rollout started']);
      // Users saw nothing of it: every read answered.
      expect([...statuses.keys()]).toEqual([200]);
      for (const process of ['main-a', 'main-b']) {
        await followTime(t!, process, { remote_percent: 100 }, Date.now());
        expect(orders(await topologyAt(t!, process)).remote_percent).toBe(100);
      }
      // What an operator watches meanwhile: the remote side's latency, its circuit, the consumers' backlog at NATS.
      const text = await t!.metrics('main-a');
      expect(metric(text, 'module_call_duration_seconds_count', { module: 'orders', method: 'getOrder', side: 'remote' }, 'nan')).toBeGreaterThan(0);
      expect(metric(text, 'module_call_duration_seconds_count', { module: 'orders', method: 'getOrder', side: 'shadow' }, 'nan')).toBeGreaterThan(0);
      expect(metric(text, 'remote_circuit_state', { module: 'orders' }, 'nan')).toBe(0);
      expect(metric(text, 'nats_consumer_messages', { consumer: 'inventory', state: 'pending' }, 'nan')).toBeGreaterThanOrEqual(0);
      console.info(`[rollout] faithful copy: 25 → 50 → 100 % completed after ${[...statuses.values()].reduce((a, b) => a + b, 0)} reads`);
    });

    it('DELETE aborts a running rollout and puts the module back at 0%', async () => {
      const started = await call(t!.url('main-a'), 'POST', '/api/admin/topology/orders/rollout', { token: t!.adminToken, body: { steps: [20, 100], hold_seconds: 3_600 } });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      await followTime(t!, 'main-b', { remote_percent: 20 }, Date.now());
      const aborted = await call(t!.url('main-b'), 'DELETE', '/api/admin/topology/orders/rollout', { token: t!.adminToken });
      expect(aborted.status, JSON.stringify(aborted.body)).toBe(200);
      expect(aborted.body).toMatchObject({ state: 'aborted', step_percent: 20 });
      expect(aborted.body.reason).toMatch(/^aborted by admin:/);
      await followTime(t!, 'main-a', { remote_percent: 0 }, Date.now());
      expect((await call(t!.url('main-b'), 'DELETE', '/api/admin/topology/orders/rollout', { token: t!.adminToken })).status).toBe(404);
    });
  });

  describe('a diverging copy of orders (a database of its own)', () => {
    let t: RunningTopology | undefined;
    beforeAll(async () => {
      t = await startTopology(replicatedMain('control plane, diverging copy', { isolated: true }), { nats: nats! });
    });
    afterAll(() => t?.close());

    it('the rollout rolls back to 0% by itself at the first step, and says why', async () => {
      const placed = await placeOrders(t!, 16);
      const started = await call(t!.url('main-a'), 'POST', '/api/admin/topology/orders/rollout', { token: t!.adminToken, body: { steps: [5, 50, 100], hold_seconds: 30 } });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      await readUntil(t!, placed, async () => (await call(t!.url('main-a'), 'GET', '/api/admin/topology/orders/rollout', { token: t!.adminToken })).body.state !== 'running', 30_000);
      const rollout = (await call(t!.url('main-b'), 'GET', '/api/admin/topology/orders/rollout', { token: t!.adminToken })).body;
      expect(rollout, JSON.stringify(rollout)).toMatchObject({ state: 'rolled_back', step_index: 0, step_percent: 5 });
      expect(rollout.reason).toContain('shadow mismatch rate');
      expect(rollout.observed.shadow_mismatches).toBeGreaterThan(0);
      for (const process of ['main-a', 'main-b']) await followTime(t!, process, { remote_percent: 0 }, Date.now());
      expect(orders(await topologyAt(t!, 'main-a')).remote_percent).toBe(0);
      const logged = [...t!.processes.values()].flatMap((started) => started.server.logs()).filter((entry) => entry.msg === 'rollout rolled back');
      expect(logged).toHaveLength(1);

      // What diverged, readable by an operator from any replica: both answers side by side.
      const read = await eventually(async () => {
        const res = await call(t!.url('main-b'), 'GET', '/api/admin/shadow/mismatches?module=orders&method=getOrder', { token: t!.adminToken });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.mismatches.length).toBeGreaterThan(0);
        return res.body.mismatches;
      }, 10_000, 100);
      expect(read.length).toBeLessThanOrEqual(20);
      const [latest] = read;
      expect(placed.ids).toContain(latest.args[0]);
      expect(latest.local).toMatchObject({ id: latest.args[0], status: 'pending' });
      expect(latest.shadow).toMatchObject({ error: { code: 'order_not_found' } });
      expect((await call(t!.url('main-b'), 'GET', '/api/admin/shadow/mismatches', { token: await t!.tokenFor(randomUUID()) })).status).toBe(403);
    });
  });
});
