import { describe, expect, it } from 'vitest';
import { Telemetry } from '@shop/platform';
import { RemotePercent, splitApi } from '../src/index.ts';
import { CatalogMethods, FakeCatalog, counterValue, type CatalogApi, type Item } from './fixtures/catalog.ts';

const KEYS = Array.from({ length: 1_000 }, (_, i) => `item-${i}`);
const ITEMS: Item[] = KEYS.map((id) => ({ id, name: id, tags: [] }));

/** A catalog split between two fakes holding the same items, at `initial` percent remote. */
function setUp(initial: number) {
  const local = new FakeCatalog(ITEMS);
  const remote = new FakeCatalog(ITEMS);
  const telemetry = new Telemetry({ defaultMetrics: false });
  const percent = new RemotePercent(initial);
  const api: CatalogApi = splitApi<CatalogApi>({ module: 'catalog', local, remote, methods: CatalogMethods, telemetry, percent });
  /** The ids whose last call went to the remote fake. */
  const remoteIds = () => new Set(remote.calls.map((call) => call.args[0]));
  const bySide = (method: string, side: string) => counterValue(telemetry, 'module_calls_by_side_total', { module: 'catalog', method, side });
  return { local, remote, percent, api, remoteIds, bySide };
}

async function getAll(api: CatalogApi): Promise<void> {
  for (const id of KEYS) await api.getItem(id);
}

describe('splitApi', () => {
  it('sends everything local at 0%', async () => {
    const { api, local, remote, bySide } = setUp(0);
    await getAll(api);
    await api.listItems(1);
    await api.renameItem('item-1', 'x');
    expect(remote.calls).toEqual([]);
    expect(local.calls).toHaveLength(1_002);
    expect(await bySide('getItem', 'local')).toBe(1_000);
    expect(await bySide('getItem', 'remote')).toBe(0);
  });

  it('sends everything remote at 100%', async () => {
    const { api, local, remote, bySide } = setUp(100);
    await getAll(api);
    await api.listItems(1);
    await api.archiveItem('item-1');
    expect(local.calls).toEqual([]);
    expect(remote.calls).toHaveLength(1_002);
    expect(await bySide('getItem', 'remote')).toBe(1_000);
    expect(await bySide('archiveItem', 'remote')).toBe(1);
  });

  it('sends about 30% of keys remote at 30%, each key always to the same side', async () => {
    const { api, local, remote, bySide } = setUp(30);
    await getAll(api);
    const remoteShare = remote.calls.length / KEYS.length;
    expect(remoteShare).toBeGreaterThanOrEqual(0.25);
    expect(remoteShare).toBeLessThanOrEqual(0.35);

    // Reads and writes of one entity, again and again: never on both sides.
    for (const id of KEYS) {
      await api.renameItem(id, `renamed ${id}`);
      await api.getItem(id);
    }
    const sidesOf = new Map<unknown, Set<string>>();
    for (const [side, calls] of [['local', local.calls], ['remote', remote.calls]] as const) {
      for (const call of calls) sidesOf.set(call.args[0], (sidesOf.get(call.args[0]) ?? new Set()).add(side));
    }
    expect([...sidesOf.values()].every((sides) => sides.size === 1)).toBe(true);
    expect(await bySide('getItem', 'remote')).toBe(remote.calls.filter((call) => call.method === 'getItem').length);
    expect((await bySide('getItem', 'local')) + (await bySide('getItem', 'remote'))).toBe(2_000);
    expect(await bySide('renameItem', 'remote')).toBe(remote.calls.filter((call) => call.method === 'renameItem').length);
  });

  it('only moves keys from local to remote when the percentage rises at run time (monotonic)', async () => {
    const { api, percent, remote, remoteIds } = setUp(30);
    await getAll(api);
    const at30 = remoteIds();

    percent.set(60); // the same wrapper, no rebuild: what an admin endpoint does
    remote.calls.length = 0;
    await getAll(api);
    const at60 = remoteIds();

    expect([...at30].filter((id) => !at60.has(id))).toEqual([]);
    expect(at60.size / KEYS.length).toBeGreaterThanOrEqual(0.55);
    expect(at60.size / KEYS.length).toBeLessThanOrEqual(0.65);

    percent.set(30); // and back down, the very same keys return
    remote.calls.length = 0;
    await getAll(api);
    expect(remoteIds()).toEqual(at30);
  });

  it('passes answers and errors through from the side that served', async () => {
    const { api, remote } = setUp(100);
    remote.fail = new Error('remote down');
    await expect(api.getItem('item-1')).rejects.toThrow('remote down');
  });
});
