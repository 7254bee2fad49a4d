import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { ControlPlane, RemotePercent, RolloutWatch } from '../src/index.ts';
import { memoryLogger } from './fixtures/catalog.ts';
import { openWidgetsDb, type WidgetsDb } from '../../platform/test/support.ts';

/** The database goes away under a running control plane: the switches stay, and it says so once. */
describe('control plane during a database outage', () => {
  let w: WidgetsDb;
  beforeAll(async () => {
    w = await openWidgetsDb();
  });
  afterAll(() => w?.close());

  it('keeps the switches as they were, warns once per outage, and says when it reads again', async () => {
    let down = false;
    const outage = () => Promise.reject(new Error('connection refused'));
    // The owner's pool as the control plane sees it, with a switch to cut it off.
    const pool = {
      query: (...args: unknown[]) => (down ? outage() : (w.db.pool.query as (...a: unknown[]) => Promise<unknown>)(...args)),
      connect: () => (down ? outage() : w.db.pool.connect()),
    } as unknown as pg.Pool;
    const { logger, lines } = memoryLogger();
    const percent = new RemotePercent(30);
    const control = new ControlPlane({ pool, logger, process: 'main', modules: ['orders'], version: 't', switches: new Map([['orders', { percent, shadow: undefined, watch: new RolloutWatch() }]]), pollMs: 60_000 });
    await control.start();
    expect(percent.get()).toBe(30);

    down = true;
    for (let i = 0; i < 6; i += 1) await control.tick();
    expect(percent.get()).toBe(30);
    expect(lines.filter((line) => String(line.msg).startsWith('control plane cannot read the database'))).toHaveLength(1);

    down = false;
    await control.tick();
    await control.tick();
    expect(lines.filter((line) => line.msg === 'control plane reads the database again')).toHaveLength(1);
    await control.stop();
  });
});
