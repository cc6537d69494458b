import { describe, expect, it } from 'vitest';
import { encodeIpMreqn, encodeIpv6Mreq } from './raw-receiver.js';

describe('multicast membership structs', () => {
  it('lays out ipv6_mreq as group then host-order ifindex', () => {
    expect(encodeIpv6Mreq('ff02::12', 3).toString('hex')).toBe('ff020000000000000000000000000012' + '03000000');
  });
  it('lays out ip_mreqn as group, any local address, host-order ifindex', () => {
    expect(encodeIpMreqn('224.0.0.18', 258).toString('hex')).toBe('e0000012' + '00000000' + '02010000');
  });
});
