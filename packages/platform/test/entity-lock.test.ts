import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnitOfWork } from '@shop/platform';
import { openWidgetsDb, sleep as pause, type WidgetsDb } from './support.ts';

let w: WidgetsDb;
let uow: UnitOfWork;
beforeAll(async () => {
  w = await openWidgetsDb();
  uow = new UnitOfWork(w.module, () => undefined);
});
afterAll(() => w?.close());


describe('tx.lock (serialising on an entity)', () => {
  it('makes a second transaction on the same entity wait for the first to commit, then see its writes', async () => {
    const id = randomUUID();
    const steps: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = uow.run(async (tx) => {
      await tx.lock('widget', [id]);
      steps.push('first locked');
      await tx.db.insertInto('widgets.widgets').values({ id, name: 'first' }).execute();
      await held;
      steps.push('first commits');
    });
    await pause(50);
    const second = uow.run(async (tx) => {
      await tx.lock('widget', [id.toUpperCase()]); // ids are compared case-insensitively
      steps.push('second locked');
      return tx.db.selectFrom('widgets.widgets').select('name').where('id', '=', id).executeTakeFirst();
    });
    await pause(150);
    expect(steps).toEqual(['first locked']);
    release();
    await first;
    expect(await second).toEqual({ name: 'first' });
    expect(steps).toEqual(['first locked', 'first commits', 'second locked']);
  });

  it('lets transactions on other entities go on, and never deadlocks on overlapping sets taken in any order', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const runs = Array.from({ length: 20 }, (_, i) =>
      uow.run(async (tx) => {
        await tx.lock('widget', i % 2 === 0 ? [a, b, c] : [c, b, a]);
        await pause(2);
      }),
    );
    await expect(Promise.all(runs)).resolves.toHaveLength(20);
    const other = uow.run(async (tx) => tx.lock('widget', [randomUUID()]));
    await expect(other).resolves.toBeUndefined();
  });
});
