import { describe, expect, it } from 'vitest';
import { ModuleError } from '@shop/contract-kit';
import { Telemetry, internalCaller, withCaller } from '@shop/platform';
import { boundaryApi, callingModule } from '../src/index.ts';

class Orders {
  async getOrder(id: string) {
    return { id, signedAs: callingModule() };
  }
  async cancelOrder(id: string): Promise<never> {
    throw new ModuleError({ code: 'order_not_found', status: 404, title: 'Order not found' }, `no order ${id}`);
  }
}

const metric = async (telemetry: Telemetry, name: string) => (await telemetry.registry.getSingleMetricAsString(name)).split('\n').filter((line) => !line.startsWith('#'));

/** The one wrapper every hand-over gets: each duty on when asked, off when not. */
describe('boundaryApi', () => {
  it('counts the call by caller, signs it (and what it calls) as the caller, and instruments it as the callee, in one wrapper', async () => {
    const telemetry = new Telemetry({ defaultMetrics: false });
    const api = boundaryApi(new Orders(), { count: { caller: 'payments', callee: 'orders', via: 'in-process' }, signAs: 'payments', local: 'orders' }, telemetry);
    expect(await api.getOrder('a')).toEqual({ id: 'a', signedAs: 'payments' });
    await expect(api.cancelOrder('b')).rejects.toMatchObject({ code: 'order_not_found' });
    expect([...telemetry.traffic.drain().calls]).toEqual([
      ['payments\torders\tgetOrder\tin-process', 1],
      ['payments\torders\tcancelOrder\tin-process', 1],
    ]);
    const calls = await metric(telemetry, 'module_calls_total');
    expect(calls).toEqual(expect.arrayContaining([expect.stringMatching(/module="orders",method="getOrder",outcome="ok"} 1$/), expect.stringMatching(/method="cancelOrder",outcome="order_not_found"} 1$/)]));
  });

  it('does only what it is asked: no count, no signature, no metrics', async () => {
    const telemetry = new Telemetry({ defaultMetrics: false });
    const api = boundaryApi(new Orders(), {}, telemetry);
    expect(await api.getOrder('a')).toEqual({ id: 'a', signedAs: undefined });
    expect(telemetry.traffic.drain().calls.size).toBe(0);
    expect((await metric(telemetry, 'module_calls_total')).filter(Boolean)).toEqual([]);
  });

  it('at /internal, counts each call as the calling process withCaller names', async () => {
    const telemetry = new Telemetry({ defaultMetrics: false });
    const api = boundaryApi(new Orders(), { count: { caller: internalCaller, callee: 'orders', via: 'internal' }, local: 'orders' }, telemetry);
    await withCaller('remote:payments', () => api.getOrder('a'));
    await api.getOrder('b');
    expect([...telemetry.traffic.drain().calls]).toEqual([
      ['remote:payments\torders\tgetOrder\tinternal', 1],
      ['remote:unknown\torders\tgetOrder\tinternal', 1],
    ]);
  });
});
