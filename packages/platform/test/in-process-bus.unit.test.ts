import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@shop/contract-kit';
import { InProcessBus } from '@shop/platform';

const event = (id: string, type = 'things.happened'): EventEnvelope => ({ id, type, version: 1, source: 'test', occurred_at: new Date(0).toISOString(), payload: {} });

describe('InProcessBus.publishBatch', () => {
  it("hands each subscriber its share of the batch in order, and fails only the events a subscriber failed", async () => {
    const bus = new InProcessBus();
    const batches: string[][] = [];
    const oneByOne: string[] = [];
    bus.subscribe({
      consumer: 'batcher',
      events: ['things.happened'],
      handle: async () => {
        throw new Error('the batch path should have been taken');
      },
      handleBatch: async (events) => {
        batches.push(events.map((e) => e.id));
        return events.map((e) => (e.id === 'b' ? { status: 'rejected', reason: new Error('b is broken') } : { status: 'fulfilled', value: undefined }));
      },
    });
    bus.subscribe({
      consumer: 'single',
      events: ['things.happened', 'other.thing'],
      handle: async (e) => {
        oneByOne.push(e.id);
        if (e.id === 'c') throw new Error('c is broken too');
      },
    });

    const outcomes = await bus.publishBatch([event('a'), event('x', 'other.thing'), event('b'), event('c'), event('d', 'nobody.listens')]);

    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(oneByOne).toEqual(['a', 'x', 'b', 'c']);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(String((outcomes[2] as PromiseRejectedResult).reason)).toMatch(/batcher: b is broken/);
    expect(String((outcomes[3] as PromiseRejectedResult).reason)).toMatch(/single: c is broken too/);
    await expect(bus.publish(event('c'))).rejects.toThrow(/single: c is broken too/);
  });

  it('fails the whole share of a batch handler that rejects instead of reporting outcomes', async () => {
    const bus = new InProcessBus();
    bus.subscribe({ consumer: 'rude', events: ['things.happened'], handle: async () => undefined, handleBatch: async () => Promise.reject(new Error('boom')) });
    const outcomes = await bus.publishBatch([event('a'), event('b')]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
  });
});
