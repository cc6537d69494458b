import { describe, expect, it } from 'vitest';
import { formatAddress, formatIpv4, formatIpv6 } from './addr.js';

describe('formatAddress', () => {
  it('gives each address its own text, also when more addresses than it keeps share its slots', () => {
    const v4 = Array.from({ length: 6000 }, (_, i) => Buffer.from([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]));
    for (const round of [v4, [...v4].reverse(), v4]) for (const b of round) expect(formatAddress(b, 4)).toBe(`${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
    const v6 = v4.map((b) => Buffer.concat([Buffer.from([0xfd, 0xcc]), Buffer.alloc(10), b]));
    for (const round of [v6, [...v6].reverse()]) for (const b of round) expect(formatAddress(b, 6)).toBe(formatIpv6(b));
  });

  it('reads at an offset, and an address cut short by the buffer end as the plain formatter does', () => {
    const buf = Buffer.from([0, 0, 10, 201, 1, 3, 99]);
    expect(formatAddress(buf, 4, 2)).toBe('10.201.1.3');
    expect(formatAddress(buf, 4, 3)).toBe('201.1.3.99');
    expect(formatAddress(buf, 4, 5)).toBe(formatIpv4(buf, 5));
  });
});
