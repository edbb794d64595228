/**
 * The click store's projection name in `projection_checkpoints`. In a module of its own: the
 * click watermark reads it, and the click handler (which wakes parked postbacks through the retry
 * scheduler, which reaches the watermark) must not be in the watermark's imports, or the two
 * modules' classes would depend on the order Node loads them in.
 */
export const CLICK_PROJECTION = 'click-store';
