import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ModuleTraffic, createLogger, withCaller } from '@shop/platform';
import { TrafficRecorder } from '../src/index.ts';

const api = {
  async getOrder(id: string) {
    return { id };
  },
};

describe('ModuleTraffic: the run-time evidence of the extraction report', () => {
  it('counts calls by caller, callee, method and how they crossed', async () => {
    const traffic = new ModuleTraffic({ cpuSample: 1 });
    await traffic.fromCaller('payments', 'orders', api, true).getOrder('a');
    await traffic.fromCaller('payments', 'orders', api, true).getOrder('b');
    await traffic.fromCaller('http', 'orders', api, false).getOrder('c');
    const entry = traffic.atEntry('orders', api);
    await withCaller('remote:payments', () => entry.getOrder('d'));
    await entry.getOrder('e');
    expect([...traffic.drain().calls]).toEqual([
      ['payments\torders\tgetOrder\tin-process', 2],
      ['http\torders\tgetOrder\tremote', 1],
      ['remote:payments\torders\tgetOrder\tinternal', 1],
      ['remote:unknown\torders\tgetOrder\tinternal', 1],
    ]);
    expect(traffic.drain().calls.size).toBe(0);
  });

  it('charges CPU to the module in flight, minus the modules it called', async () => {
    const traffic = new ModuleTraffic({ cpuSample: 1 });
    const spin = (ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end; );
    };
    await traffic.measure('orders', async () => {
      spin(20);
      await traffic.measure('inventory', async () => spin(60));
    });
    const usage = traffic.drain().usage;
    const inventory = usage.get('inventory')!.cpuMicros;
    const orders = usage.get('orders')!.cpuMicros;
    expect(inventory).toBeGreaterThan(20_000);
    expect(orders).toBeGreaterThan(5_000);
    expect(orders).toBeLessThan(inventory);
  });

  it('keeps what a failed flush drained, for the next one', async () => {
    const traffic = new ModuleTraffic({ cpuSample: 1 });
    traffic.call('orders', 'inventory', 'getProducts', 'in-process', 3);
    traffic.request('orders', 2);
    const failing = { query: async () => Promise.reject(new Error('the database is down')) } as unknown as pg.Pool;
    const recorder = new TrafficRecorder({ pool: failing, traffic, process: 'test', logger: createLogger('silent') });
    await recorder.flush();
    traffic.call('orders', 'inventory', 'getProducts', 'in-process', 1);
    const kept = traffic.drain();
    expect(kept.calls.get('orders\tinventory\tgetProducts\tin-process')).toBe(4);
    expect(kept.usage.get('orders')).toEqual({ requests: 2, cpuMicros: 0 });
  });
});
