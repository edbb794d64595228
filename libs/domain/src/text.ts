/** No lone surrogate and no NUL: what wellFormed would give back unchanged. */
const clean = (s: string) => s.isWellFormed() && !s.includes('\u0000');

/**
 * Text that is safe to store and publish: lone UTF-16 surrogates (half an emoji, as a careless
 * cut or a hostile JSON escape leaves them) become U+FFFD, NUL becomes U+FFFD (Postgres text
 * refuses it), and a limit cuts by code point, never inside a surrogate pair.
 */
export function wellFormed(s: string): string {
  // Almost all text is clean already: two scans, and the same string back, nothing allocated.
  if (clean(s)) return s;
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
  // The value itself when nothing in it needs mending (the usual case): no copy.
  return isWellFormedDeep(v) ? v : mendDeep(v);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/** Whether wellFormedDeep would change nothing in `v`. */
function isWellFormedDeep(v: unknown): boolean {
  if (typeof v === 'string') return clean(v);
  if (Array.isArray(v)) return v.every(isWellFormedDeep);
  if (isPlainObject(v)) {
    for (const k in v) if (!clean(k) || !isWellFormedDeep(v[k])) return false;
  }
  return true;
}

function mendDeep<T>(v: T): T {
  if (typeof v === 'string') return wellFormed(v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => mendDeep(x)) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[wellFormed(k)] = mendDeep(x);
    return out as T;
  }
  return v;
}
