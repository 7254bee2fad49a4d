/**
 * The default normaliser of dark-launch answers: the value as it would look after a trip
 * through JSON, with object keys sorted at every depth. The remote copy's answer did cross
 * JSON, the local one did not, so without this a `Date` against its ISO string, or a member
 * set to `undefined` against an absent one, would count as mismatches that no client can see.
 * Arrays keep their order: the order of a list is part of the answer (newest first...).
 */
export function sortKeysDeep(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return sortKeysDeep(json.call(value));
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeysDeep(member);
  }
  return sorted;
}

/** One canonical JSON text per value (keys sorted): equal texts for values no client tells apart. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeysDeep(value)) ?? 'undefined';
}
