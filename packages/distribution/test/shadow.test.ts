import { afterEach, describe, expect, it, vi } from 'vitest';
import { ModuleError } from '@shop/contract-kit';
import { PlatformErrors, Telemetry } from '@shop/platform';
import { shadowApi, type ShadowMismatch } from '../src/index.ts';
import { CatalogMethods, FakeCatalog, ITEMS, counterValue, deferred, itemNotFound, memoryLogger, type CatalogApi, type Item } from './fixtures/catalog.ts';

/** A dark-launched catalog: `local` serves, `shadow` is the copy on trial. */
function setUp(
  options: { timeoutMs?: number; maxInFlight?: number; normalise?: (value: unknown) => unknown; shadowItems?: Item[]; personal?: string[]; onMismatch?: (m: ShadowMismatch) => void } = {},
) {
  const { shadowItems = ITEMS, ...wrapperOptions } = options;
  const local = new FakeCatalog(ITEMS);
  const shadow = new FakeCatalog(shadowItems);
  const telemetry = new Telemetry({ defaultMetrics: false });
  const { logger, lines } = memoryLogger();
  const api: CatalogApi = shadowApi<CatalogApi>({ module: 'catalog', local, shadow, methods: CatalogMethods, telemetry, logger, ...wrapperOptions });
  const count = (method: string, outcome: string) => counterValue(telemetry, 'module_shadow_calls_total', { module: 'catalog', method, outcome });
  const mismatches = (method: string) => counterValue(telemetry, 'module_shadow_mismatches_total', { module: 'catalog', method });
  /** Waits until the background comparisons have counted `n` verdicts for `method`. */
  const verdicts = (method: string, n: number) =>
    vi.waitFor(async () => {
      const all = await Promise.all(['match', 'mismatch', 'shadow_error'].map((outcome) => count(method, outcome)));
      expect(all.reduce((a, b) => a + b, 0)).toBe(n);
    });
  return { local, shadow, telemetry, api, lines, count, mismatches, verdicts };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('shadowApi', () => {
  it('hands each mismatch over and logs it with personal data redacted: members the contract names, and e-mail addresses anywhere', async () => {
    const recorded: ShadowMismatch[] = [];
    const shadowItems = [{ ...ITEMS[0]!, name: 'kettle for ann@example.com' }, ITEMS[1]!];
    const { api, verdicts, lines } = setUp({ shadowItems, personal: ['tags'], onMismatch: (m) => recorded.push(m) });

    await api.getItem('i1');
    await verdicts('getItem', 1);

    expect(recorded).toEqual([
      {
        module: 'catalog',
        method: 'getItem',
        args: ['i1'],
        local: { id: 'i1', name: 'kettle', tags: '[redacted]' },
        shadow: { id: 'i1', name: 'kettle for [email]', tags: '[redacted]' },
      },
    ]);
    const logged = JSON.stringify(lines.filter((line) => line.msg === 'shadow answer differs from local'));
    expect(logged).toContain('[email]');
    expect(logged).not.toContain('ann@example.com');
    expect(logged).not.toContain('kitchen');
  });

  it('answers with local, sends reads to both and writes to local only, ever', async () => {
    const { api, local, shadow, verdicts } = setUp();
    shadow.reversedKeys = true;

    expect(await api.getItem('i1')).toEqual(ITEMS[0]);
    expect(await api.renameItem('i1', 'teapot')).toEqual({ ...ITEMS[0], name: 'teapot' });
    expect(await api.archiveItem('i2')).toEqual({ ...ITEMS[1], tags: ['light', 'desk', 'archived'] });
    expect(await api.listItems(1)).toEqual({ items: [{ ...ITEMS[0], name: 'teapot' }, { ...ITEMS[1], tags: ['light', 'desk', 'archived'] }], page: 1 });
    await verdicts('getItem', 1);
    await verdicts('listItems', 1);

    expect(local.calls.map((call) => call.method)).toEqual(['getItem', 'renameItem', 'archiveItem', 'listItems']);
    expect(shadow.calls).toEqual([
      { method: 'getItem', args: ['i1'] },
      { method: 'listItems', args: [1] },
    ]);
    expect(shadow.calls.some((call) => call.method === 'renameItem' || call.method === 'archiveItem')).toBe(false);
  });

  it('counts identical answers (keys in another order) as matches, and no mismatch', async () => {
    const { api, shadow, count, mismatches, verdicts, lines } = setUp();
    shadow.reversedKeys = true;

    await api.getItem('i1');
    await api.getItem('i2');
    await api.listItems(1);
    await verdicts('getItem', 2);
    await verdicts('listItems', 1);

    expect(await count('getItem', 'match')).toBe(2);
    expect(await count('listItems', 'match')).toBe(1);
    expect(await count('getItem', 'mismatch')).toBe(0);
    expect(await mismatches('getItem')).toBe(0);
    expect(lines.filter((line) => line.level === 40)).toEqual([]);
  });

  it('counts and logs a diverging answer, with both answers, the module, method and arguments', async () => {
    const { api, shadow, count, mismatches, verdicts, lines } = setUp();
    await shadow.renameItem('i2', 'lantern'); // the copy's data drifted

    expect(await api.getItem('i2')).toEqual(ITEMS[1]);
    await verdicts('getItem', 1);

    expect(await count('getItem', 'mismatch')).toBe(1);
    expect(await mismatches('getItem')).toBe(1);
    const warning = lines.find((line) => line.msg === 'shadow answer differs from local');
    expect(warning).toMatchObject({ level: 40, module: 'catalog', method: 'getItem', args: '["i2"]' });
    expect(warning?.local).toBe('{"id":"i2","name":"lamp","tags":["light","desk"]}');
    expect(warning?.shadow).toBe('{"id":"i2","name":"lantern","tags":["light","desk"]}');
  });

  it('keeps array order significant: the same items in another order are a mismatch', async () => {
    const { api, count, mismatches, verdicts } = setUp({ shadowItems: [ITEMS[1]!, ITEMS[0]!] });

    await api.listItems(1);
    await verdicts('listItems', 1);
    expect(await count('listItems', 'mismatch')).toBe(1);
    expect(await mismatches('listItems')).toBe(1);
  });

  it('uses the given normaliser instead of the default', async () => {
    const { api, count, verdicts } = setUp({ normalise: (value) => (value as { id: string }).id });
    const drifted = setUp({ normalise: (value) => (value as { id: string }).id });
    await drifted.shadow.renameItem('i1', 'other name'); // differs only where the normaliser does not look

    await api.getItem('i1');
    await drifted.api.getItem('i1');
    await verdicts('getItem', 1);
    await drifted.verdicts('getItem', 1);
    expect(await count('getItem', 'match')).toBe(1);
    expect(await drifted.count('getItem', 'match')).toBe(1);
  });

  it('counts the same error code on both sides as a match, and passes the local error on unchanged', async () => {
    const { api, local, count, verdicts } = setUp();
    const localError = new ModuleError(itemNotFound, 'gone');
    local.fail = localError;

    await expect(api.getItem('i1')).rejects.toBe(localError);
    await expect(api.getItem('nope')).rejects.toBe(localError);
    await verdicts('getItem', 2);
    // i1: local item_not_found, shadow answered → mismatch; nope: item_not_found on both → match
    expect(await count('getItem', 'mismatch')).toBe(1);
    expect(await count('getItem', 'match')).toBe(1);
  });

  it('hands back the very promise the local implementation returned, for reads and writes', () => {
    const local = new FakeCatalog(ITEMS);
    const read = Promise.resolve(ITEMS[0]!);
    const write = Promise.resolve(ITEMS[1]!);
    local.getItem = () => read;
    local.renameItem = () => write;
    const api = shadowApi<CatalogApi>({ module: 'catalog', local, shadow: new FakeCatalog(ITEMS), methods: CatalogMethods, telemetry: new Telemetry({ defaultMetrics: false }), logger: memoryLogger().logger });
    expect(api.getItem('i1')).toBe(read);
    expect(api.renameItem('i2', 'x')).toBe(write);
  });

  it('counts a mismatch when only one side throws', async () => {
    const { api, shadow, count, mismatches, verdicts, lines } = setUp();
    shadow.fail = new ModuleError(itemNotFound, 'the copy lost it');

    expect(await api.getItem('i1')).toEqual(ITEMS[0]);
    await verdicts('getItem', 1);
    expect(await count('getItem', 'mismatch')).toBe(1);
    expect(await mismatches('getItem')).toBe(1);
    expect(lines.find((line) => line.msg === 'shadow answer differs from local')?.shadow).toBe('{"error":{"code":"item_not_found","detail":"the copy lost it"}}');
  });

  it('counts a transport failure of the shadow as shadow_error, not a mismatch, and the caller does not see it', async () => {
    const { api, shadow, count, mismatches, verdicts } = setUp();
    shadow.fail = new Error('connect ECONNREFUSED');
    expect(await api.getItem('i1')).toEqual(ITEMS[0]);
    shadow.fail = new ModuleError(PlatformErrors.moduleUnavailable, 'circuit open'); // what the HTTP client makes of it
    expect(await api.getItem('i2')).toEqual(ITEMS[1]);

    await verdicts('getItem', 2);
    expect(await count('getItem', 'shadow_error')).toBe(2);
    expect(await mismatches('getItem')).toBe(0);
  });

  it('answers the caller while the shadow still hangs, then counts shadow_error at the timeout', async () => {
    vi.useFakeTimers();
    const { api, shadow, count } = setUp();
    const hang = deferred();
    shadow.gate = hang.promise;

    expect(await api.getItem('i1')).toEqual(ITEMS[0]);
    expect(shadow.calls).toHaveLength(1); // the shadow was called...
    expect(hang.settled()).toBe(false); // ...and is still pending: the caller did not wait for it

    await vi.advanceTimersByTimeAsync(1_999);
    expect(await count('getItem', 'shadow_error')).toBe(0);
    await vi.advanceTimersByTimeAsync(1); // the default timeout, 2 s
    await vi.waitFor(async () => expect(await count('getItem', 'shadow_error')).toBe(1));
    expect(hang.settled()).toBe(false);
  });

  it('compares a slow shadow once it answers, long after the caller got its answer', async () => {
    const { api, shadow, count, verdicts } = setUp();
    const slow = deferred();
    shadow.gate = slow.promise;

    expect(await api.getItem('i1')).toEqual(ITEMS[0]);
    expect(await count('getItem', 'match')).toBe(0);
    slow.resolve();
    await verdicts('getItem', 1);
    expect(await count('getItem', 'match')).toBe(1);
  });

  it('drops shadow calls beyond the in-flight ceiling and counts them, then resumes', async () => {
    const { api, shadow, count, verdicts } = setUp({ maxInFlight: 2 });
    const hang = deferred();
    shadow.gate = hang.promise;

    for (const id of ['i1', 'i2', 'i1']) expect(await api.getItem(id)).toMatchObject({ id });
    expect(shadow.calls).toHaveLength(2);
    expect(await count('getItem', 'dropped')).toBe(1);

    hang.resolve();
    await verdicts('getItem', 2);
    await api.getItem('i2');
    await verdicts('getItem', 3);
    expect(shadow.calls).toHaveLength(3);
    expect(await count('getItem', 'match')).toBe(3);
  });
});
