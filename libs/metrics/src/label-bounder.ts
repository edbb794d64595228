/** Label value for anything outside a bounded label's allowed set. */
export const OTHER_LABEL = '_other';
/** Label value for an id the catalog does not know (e.g. a partner id an anonymous caller made up). */
export const UNKNOWN_LABEL = '_unknown';
/** Label value for an absent value (no reason, no entry type...). */
export const NONE_LABEL = 'none';

const ID_SHAPE = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Keeps one label's set of values bounded, whatever callers pass: a value that is not id-shaped,
 * or any value beyond the first `max` distinct ones, is reported as `_other`. Each distinct label
 * value is a time series held in memory here and in Prometheus, so a label fed by client input
 * (ids in URLs, reason codes) must never grow without bound.
 */
export class LabelBounder {
  private readonly seen = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly shape: RegExp = ID_SHAPE,
  ) {}

  bound(value: string | null | undefined): string {
    if (value === null || value === undefined || value === '') return NONE_LABEL;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max || !this.shape.test(value)) return OTHER_LABEL;
    this.seen.add(value);
    return value;
  }

  /** Like `bound`, but only for ids `known` vouches for (catalog ids); others are `_unknown`. */
  boundKnown(value: string, known: (v: string) => boolean): string {
    return known(value) ? this.bound(value) : UNKNOWN_LABEL;
  }
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** HTTP method as a label: the standard ones, anything else `_other`. */
export const methodLabel = (m: string): string => (METHODS.has(m) ? m : OTHER_LABEL);

/** 200 -> "2xx"; anything outside 100-599 -> "_other". */
export const statusClass = (status: number): string =>
  status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : OTHER_LABEL;
