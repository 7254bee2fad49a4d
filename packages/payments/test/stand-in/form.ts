/**
 * Decodes a Stripe request body as Stripe's API does: `application/x-www-form-urlencoded`
 * with bracketed keys (`metadata[order_id]=…`, `payment_method_types[0]=card`, `expand[]=…`).
 * Written independently of the client's encoder, so a bug in one is not hidden by the other.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };

export function decodeForm(body: string): Record<string, FormValue> {
  const root: Record<string, FormValue> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const [head, ...rest] = pathOf(rawKey);
    if (head === undefined) continue;
    assign(root, head, rest, value);
  }
  return arraysFromIndexes(root) as Record<string, FormValue>;
}

function pathOf(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return [key];
  const inner = [...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!);
  return [match[1]!, ...inner];
}

function assign(target: Record<string, FormValue>, key: string, rest: string[], value: string): void {
  if (rest.length === 0) {
    target[key] = value;
    return;
  }
  const existing = target[key];
  const child = (typeof existing === 'object' && existing !== null ? existing : {}) as Record<string, FormValue>;
  target[key] = child;
  const [next, ...tail] = rest;
  // `a[]=x` appends.
  assign(child, next === '' ? String(Object.keys(child).length) : next!, tail, value);
}

/** `{ "0": a, "1": b }` → `[a, b]`, as Stripe reads indexed keys. */
function arraysFromIndexes(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, arraysFromIndexes(inner)] as const);
  if (entries.length > 0 && entries.every(([key]) => /^\d+$/.test(key))) {
    return entries.sort(([a], [b]) => Number(a) - Number(b)).map(([, inner]) => inner);
  }
  return Object.fromEntries(entries);
}
