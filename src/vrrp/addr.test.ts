import { describe, expect, it } from 'vitest';
import { formatAddress, formatIpv4, formatIpv6 } from './addr.js';

describe('formatAddress', () => {
  it('gives each address its own text when addresses share the cache slot of their last byte', () => {
    const v4 = [
      [10, 0, 0, 7],
      [10, 0, 1, 7],
      [192, 168, 0, 7],
      [10, 0, 0, 7],
    ];
    expect(v4.map((b) => formatAddress(Buffer.from(b), 4))).toEqual(['10.0.0.7', '10.0.1.7', '192.168.0.7', '10.0.0.7']);
    const a = Buffer.alloc(16);
    a[0] = 0xfe;
    a[1] = 0x80;
    a[15] = 1;
    const b = Buffer.from(a);
    b[1] = 0x81;
    expect([formatAddress(a, 6), formatAddress(b, 6), formatAddress(a, 6)]).toEqual(['fe80::1', 'fe81::1', 'fe80::1']);
    expect(formatAddress(b, 6)).toBe(formatIpv6(b));
  });

  it('reads at an offset, and an address cut short by the buffer end as the plain formatter does', () => {
    const buf = Buffer.from([0, 0, 10, 201, 1, 3, 99]);
    expect(formatAddress(buf, 4, 2)).toBe('10.201.1.3');
    expect(formatAddress(buf, 4, 3)).toBe('201.1.3.99');
    expect(formatAddress(buf, 4, 5)).toBe(formatIpv4(buf, 5));
  });
});
