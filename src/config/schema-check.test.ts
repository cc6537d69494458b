// Value checks of the keyword schema that replace node's own: they must agree with it.
import { isIPv4 as nodeIsIPv4 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDecimal, isIPv4 } from './schema-check.js';

describe('isIPv4', () => {
  it('agrees with node:net on addresses, near-addresses and noise', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 255 }).map(String),
      fc.integer({ min: 0, max: 999 }).map(String),
      fc.constantFrom('00', '01', '007', '0255', '256', '', '1a', '-1', '+1', ' 1', '1 '),
    );
    const dotted = fc.array(octet, { minLength: 1, maxLength: 6 }).map((p) => p.join('.'));
    const noise = fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ':', 'a', ' ', '\n'), maxLength: 18 });
    fc.assert(
      fc.property(fc.oneof(dotted, noise), (s) => {
        expect(isIPv4(s)).toBe(nodeIsIPv4(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('takes the usual forms and refuses leading zeros, as node does', () => {
    expect(['0.0.0.0', '10.0.0.1', '255.255.255.255', '172.16.39.15'].map(isIPv4)).toEqual([true, true, true, true]);
    expect(['010.0.0.1', '1.2.3', '1.2.3.4.', '256.1.1.1', '1.2.3.4\n', '::1'].map(isIPv4)).toEqual([false, false, false, false, false, false]);
  });
});

describe('isDecimal', () => {
  it('takes exactly what /^[-+]?(\\d+\\.?\\d*|\\.\\d+)$/ takes', () => {
    const re = /^[-+]?(\d+\.?\d*|\.\d+)$/;
    const text = fc.string({ unit: fc.constantFrom('0', '1', '9', '.', '+', '-', 'e', ' '), maxLength: 8 });
    fc.assert(
      fc.property(text, (s) => {
        expect(isDecimal(s)).toBe(re.test(s));
      }),
      { numRuns: 20_000 },
    );
  });
});
