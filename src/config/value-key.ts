// A model object's value as one string, without where it was written: two objects that say
// the same thing (a vrrp_script kept by a reload, identical checker blocks) have the same key
// wherever they sit in the files.

/**
 * Everything `x` says except `pos` at any depth (an object's own, its urls', its hosts').
 * Numbers JSON cannot tell apart (NaN, Infinity) keep their own spelling, so two values share
 * a key only when they are equal.
 */
export function valueKey(x: unknown): string {
  return JSON.stringify(x, (k, v: unknown) => {
    if (k === 'pos') return undefined;
    if (typeof v === 'number' && !Number.isFinite(v)) return `#number:${v}`;
    return v;
  });
}
