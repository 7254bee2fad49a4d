/** Member names whose values are personal data in any module's answers (contracts may add their own). */
export const PERSONAL_FIELDS: readonly string[] = ['email', 'push_subscription', 'endpoint', 'p256dh', 'auth', 'phone', 'address', 'password', 'token'];

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;

/**
 * A copy of `value` fit for a log line or an operator's screen: members named personal replaced
 * by `[redacted]`, and e-mail addresses inside any other text by `[email]`. The shape (which
 * members exist, which differ) stays readable, which is what comparing two answers needs.
 */
export function redact(value: unknown, personal: ReadonlySet<string>): unknown {
  if (typeof value === 'string') return value.replace(EMAIL, '[email]');
  if (value === null || typeof value !== 'object') return value;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return redact(json.call(value), personal);
  if (Array.isArray(value)) return value.map((item) => redact(item, personal));
  const copy: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    copy[key] = personal.has(key) && member !== null && member !== undefined ? '[redacted]' : redact(member, personal);
  }
  return copy;
}
