/**
 * Sum of a metric's samples whose labels include `labels`, read from a /metrics text; 0 when no
 * sample matches (or NaN with `missing: 'nan'`, to tell "never reported" from "zero").
 */
export function metric(text: string, name: string, labels: Record<string, string> = {}, missing: 'zero' | 'nan' = 'zero'): number {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) sum = (sum ?? 0) + Number(match[3]);
  }
  return sum ?? (missing === 'nan' ? NaN : 0);
}
