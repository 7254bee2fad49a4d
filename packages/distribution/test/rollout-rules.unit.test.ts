import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, judge, type StepStats } from '../src/index.ts';
import { emptyHistogram, observe, quantileOf } from '../src/control/latency-histogram.ts';

const T0 = new Date('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const position = { steps: [1, 5, 25, 100], step_index: 0, hold_ms: 10_000, limits: DEFAULT_LIMITS, step_started_at: T0 };

function stats(overrides: Partial<StepStats> & { local_ms?: number[]; remote_ms?: number[] } = {}): StepStats {
  const local = emptyHistogram();
  const remote = emptyHistogram();
  for (const ms of overrides.local_ms ?? []) observe(local, ms);
  for (const ms of overrides.remote_ms ?? []) observe(remote, ms);
  return { remote_calls: 0, remote_errors: 0, shadow_calls: 0, shadow_mismatches: 0, local_latency: local, remote_latency: remote, ...overrides };
}

describe('judge (a rollout step)', () => {
  it('holds for the step time, then for enough calls, then advances; the last step completes', () => {
    expect(judge(position, stats({ remote_calls: 500 }), at(5_000))).toMatchObject({ kind: 'hold', waiting_for: '5 s more of this step' });
    expect(judge(position, stats({ remote_calls: 3 }), at(11_000))).toMatchObject({ kind: 'hold', waiting_for: '17 more calls to the remote copy' });
    expect(judge(position, stats({ remote_calls: 20 }), at(11_000))).toEqual({ kind: 'advance', step_index: 1 });
    expect(judge({ ...position, step_index: 3 }, stats({ remote_calls: 20 }), at(11_000))).toEqual({ kind: 'complete' });
  });

  it('rolls back on an error rate above the limit once enough calls were seen, whatever the time held', () => {
    expect(judge(position, stats({ remote_calls: 10, remote_errors: 1 }), at(1))).toMatchObject({ kind: 'hold' });
    const decision = judge(position, stats({ remote_calls: 20, remote_errors: 1 }), at(1));
    expect(decision).toEqual({ kind: 'roll_back', reason: 'remote error rate 5% (1 of 20 calls) is above the limit of 1%' });
  });

  it('a zero limit is breached by the first bad answer: one shadow mismatch rolls back', () => {
    expect(judge(position, stats({ shadow_calls: 1, shadow_mismatches: 1 }), at(1))).toMatchObject({ kind: 'roll_back', reason: expect.stringContaining('shadow mismatch rate 100%') });
    expect(judge(position, stats({ shadow_calls: 1_000 }), at(1))).toMatchObject({ kind: 'hold' });
  });

  it('rolls back when the remote p99 is further above the local p99 than allowed', () => {
    const local_ms = Array.from({ length: 100 }, () => 2);
    const slow = judge(position, stats({ remote_calls: 100, local_ms, remote_ms: Array.from({ length: 100 }, () => 400) }), at(1));
    expect(slow).toMatchObject({ kind: 'roll_back', reason: expect.stringContaining('remote p99 latency ≤500 ms') });
    const fine = judge(position, stats({ remote_calls: 100, local_ms, remote_ms: Array.from({ length: 100 }, () => 40) }), at(20_000));
    expect(fine).toEqual({ kind: 'advance', step_index: 1 });
  });

  it('reads a p99 off the summed buckets', () => {
    const h = emptyHistogram();
    for (let i = 0; i < 98; i += 1) observe(h, 3);
    observe(h, 30);
    observe(h, 3_000);
    expect(quantileOf(h, 0.5)).toBe(5);
    expect(quantileOf(h, 0.99)).toBe(50);
    expect(quantileOf(emptyHistogram(), 0.99)).toBeUndefined();
  });
});
