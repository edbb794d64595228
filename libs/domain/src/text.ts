/**
 * Text that is safe to store and publish: lone UTF-16 surrogates (half an emoji, as a careless
 * cut or a hostile JSON escape leaves them) become U+FFFD, NUL becomes U+FFFD (Postgres text
 * refuses it), and a limit cuts by code point, never inside a surrogate pair.
 */
export function wellFormed(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.toWellFormed().replace(/\u0000/g, '\uFFFD');
}

/** At most `max` UTF-16 code units of well-formed text, cut at a code point boundary. */
export function clip(s: string, max: number): string {
  const t = wellFormed(s);
  if (t.length <= max) return t;
  // A high surrogate at the cut would be left alone: cut before it.
  const code = t.charCodeAt(max - 1);
  return t.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Every string in a JSON-like value made well-formed (keys too); other values unchanged. */
export function wellFormedDeep<T>(v: T): T {
  if (typeof v === 'string') return wellFormed(v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => wellFormedDeep(x)) as T;
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[wellFormed(k)] = wellFormedDeep(x);
    return out as T;
  }
  return v;
}
