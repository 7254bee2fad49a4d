import { describe, expect, it } from 'vitest';
import { ModuleError } from '@shop/contract-kit';
import { PlatformErrors } from '@shop/platform';
import { sortKeysDeep, stableJson } from '../src/remote/normalise.ts';
import { RemotePercent } from '../src/remote/remote-percent.ts';
import { describeOutcome, verdictOf, type Outcome } from '../src/remote/shadow-verdict.ts';
import { bucketOf, stickyKeyOf } from '../src/remote/sticky-key.ts';

const notFound = { code: 'item_not_found', status: 404, title: 'No such item' };
const answer = (value: unknown): Outcome => ({ kind: 'answer', value });
const failed = (error: unknown): Outcome => ({ kind: 'error', error });

describe('bucketOf', () => {
  it('is a whole number 0–99, the same in every process (pinned: changing it reshuffles live traffic)', () => {
    expect(bucketOf('order-1')).toBe(65);
    expect(bucketOf('')).toBe(10);
    expect(bucketOf('11111111-1111-4111-8111-111111111111')).toBe(25);
  });

  it('spreads keys evenly over the buckets', () => {
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 20_000; i += 1) counts[bucketOf(`key-${i}`)]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(140); // 200 expected in each
    expect(Math.max(...counts)).toBeLessThan(260);
  });
});

describe('stickyKeyOf', () => {
  it('takes the first string argument', () => {
    expect(stickyKeyOf(['o-1'])).toBe('o-1');
    expect(stickyKeyOf(['c-1', 2])).toBe('c-1');
    expect(stickyKeyOf([3, 'c-1'])).toBe('c-1');
  });

  it('takes an object argument’s order_id, then id, customer_id, idempotency_key', () => {
    expect(stickyKeyOf([{ id: 'i', order_id: 'o', customer_id: 'c', idempotency_key: 'k' }])).toBe('o');
    expect(stickyKeyOf([{ customer_id: 'c', id: 'i', idempotency_key: 'k' }])).toBe('i');
    expect(stickyKeyOf([{ idempotency_key: 'k', customer_id: 'c', items: [] }])).toBe('c');
    expect(stickyKeyOf([{ idempotency_key: 'k', amount: 5 }])).toBe('k');
    expect(stickyKeyOf([{ order_id: 42 }])).toBe('42');
  });

  it('falls back to the arguments as canonical JSON, whatever their key order', () => {
    expect(stickyKeyOf([{ page: 2, size: 20 }])).toBe('[{"page":2,"size":20}]');
    expect(stickyKeyOf([{ size: 20, page: 2 }])).toBe(stickyKeyOf([{ page: 2, size: 20 }]));
    expect(stickyKeyOf([1])).not.toBe(stickyKeyOf([2]));
    expect(stickyKeyOf([])).toBe('[]');
  });
});

describe('RemotePercent', () => {
  it('accepts integers 0 to 100', () => {
    const percent = new RemotePercent(10);
    expect(percent.get()).toBe(10);
    for (const valid of [0, 1, 50, 100]) {
      percent.set(valid);
      expect(percent.get()).toBe(valid);
    }
  });

  it('rejects anything else, keeping its value', () => {
    const percent = new RemotePercent(25);
    for (const invalid of [101, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => percent.set(invalid)).toThrow(RangeError);
      expect(percent.get()).toBe(25);
    }
    for (const invalid of [101, -1, 1.5]) expect(() => new RemotePercent(invalid)).toThrow(RangeError);
  });
});

describe('sortKeysDeep (the default normaliser)', () => {
  it('sorts keys at every depth and keeps array order', () => {
    const value = sortKeysDeep({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } });
    expect(JSON.stringify(value)).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(sortKeysDeep([2, 1])).toEqual([2, 1]);
  });

  it('makes a local value look as it would after JSON (the remote answer crossed it)', () => {
    expect(sortKeysDeep({ at: new Date('2024-01-02T03:04:05.000Z'), gone: undefined })).toEqual({ at: '2024-01-02T03:04:05.000Z' });
    expect(stableJson({ b: undefined, a: 1 })).toBe('{"a":1}');
  });
});

describe('verdictOf', () => {
  const verdict = (local: Outcome, shadow: Outcome) => verdictOf(local, shadow, sortKeysDeep);

  it('compares answers after normalisation', () => {
    expect(verdict(answer({ a: 1, b: [1, 2] }), answer({ b: [1, 2], a: 1 }))).toBe('match');
    expect(verdict(answer({ a: 1, b: [1, 2] }), answer({ a: 1, b: [2, 1] }))).toBe('mismatch');
    expect(verdict(answer({ a: 1 }), answer({ a: '1' }))).toBe('mismatch');
    expect(verdictOf(answer({ a: 1, at: 1 }), answer({ a: 1, at: 2 }), (v) => ({ ...(v as object), at: 0 }))).toBe('match');
  });

  it('compares errors by code only', () => {
    expect(verdict(failed(new ModuleError(notFound, 'here')), failed(new ModuleError(notFound, 'there')))).toBe('match');
    expect(verdict(failed(new ModuleError(notFound, 'x')), failed(new ModuleError(PlatformErrors.invalidInput, 'x')))).toBe('mismatch');
    // an unexpected local error is what the edge answers as `internal`
    expect(verdict(failed(new TypeError('bug')), failed(new ModuleError(PlatformErrors.internal, 'oops')))).toBe('match');
  });

  it('counts one side throwing and the other answering as a mismatch', () => {
    expect(verdict(failed(new ModuleError(notFound, 'x')), answer({ id: 'x' }))).toBe('mismatch');
    expect(verdict(answer({ id: 'x' }), failed(new ModuleError(notFound, 'x')))).toBe('mismatch');
  });

  it('gives no verdict (shadow_error) when the shadow could not answer', () => {
    expect(verdict(answer(1), { kind: 'timeout' })).toBe('shadow_error');
    expect(verdict(answer(1), failed(new Error('ECONNRESET')))).toBe('shadow_error');
    expect(verdict(answer(1), failed(new ModuleError(PlatformErrors.moduleUnavailable, 'circuit open')))).toBe('shadow_error');
    expect(verdict(answer(1), failed(new ModuleError(PlatformErrors.unavailable, 'draining')))).toBe('shadow_error');
    expect(verdict(failed(new ModuleError(PlatformErrors.moduleUnavailable, 'a')), failed(new ModuleError(PlatformErrors.moduleUnavailable, 'b')))).toBe('match');
  });
});

describe('describeOutcome', () => {
  it('cuts long answers to the limit and says how much was cut', () => {
    const text = describeOutcome(answer({ big: 'x'.repeat(10_000) }), 100);
    expect(text.startsWith('{"big":"xxx')).toBe(true);
    expect(text).toMatch(/…\(9910 more chars\)$/);
  });

  it('names an error by its code and detail', () => {
    expect(describeOutcome(failed(new ModuleError(notFound, 'no item i1')), 100)).toBe('error item_not_found: no item i1');
    expect(describeOutcome({ kind: 'timeout' }, 100)).toBe('timeout');
  });
});
