import { describe, expect, it } from 'vitest';
import { AddressBook } from './local-addresses.js';

const addr = (address: string, ifindex: number) => ({ address, ifindex });

describe('AddressBook', () => {
  it('an address is present while any interface holds it; changes are announced once', () => {
    const book = new AddressBook();
    const seen: string[] = [];
    book.onChange((a, present) => seen.push(`${present ? '+' : '-'}${a}`));
    book.add('10.0.0.1', 2);
    book.add('10.0.0.1', 3); // the same address on a second interface: no news
    expect(book.has('10.0.0.1')).toBe(true);
    book.remove('10.0.0.1', 2);
    expect(book.has('10.0.0.1')).toBe(true);
    book.remove('10.0.0.1', 3);
    book.remove('10.0.0.1', 3); // a duplicate removal changes nothing
    expect(book.has('10.0.0.1')).toBe(false);
    expect(seen).toEqual(['+10.0.0.1', '-10.0.0.1']);
  });

  it('compares IPv6 in canonical form, ignoring a zone', () => {
    const book = new AddressBook();
    book.add('2001:DB8:0:0::1', 2);
    expect(book.has('2001:db8::1')).toBe(true);
    book.add('fe80::1%eth0', 2);
    expect(book.has('fe80:0::1')).toBe(true);
  });

  it('a fresh dump replaces the list and announces only the differences', () => {
    const book = new AddressBook();
    book.reset([addr('10.0.0.1', 1), addr('10.0.0.2', 1)]);
    const seen: string[] = [];
    book.onChange((a, present) => seen.push(`${present ? '+' : '-'}${a}`));
    book.reset([addr('10.0.0.2', 1), addr('10.0.0.3', 4)]);
    expect(seen).toEqual(['-10.0.0.1', '+10.0.0.3']);
    expect([book.has('10.0.0.1'), book.has('10.0.0.2'), book.has('10.0.0.3')]).toEqual([false, true, true]);
  });

  it('replaying events on top of a dump that already saw them changes nothing', () => {
    const book = new AddressBook();
    book.reset([addr('10.0.0.9', 1)]);
    const seen: string[] = [];
    book.onChange((a) => seen.push(a));
    const base = { family: 4 as const, prefix: 32, peer: null, broadcast: null, label: null, scope: 'host' as const, flags: {} as never };
    book.apply({ kind: 'address-added', address: { ...base, address: '10.0.0.9', ifindex: 1 } });
    book.apply({ kind: 'link-up', link: {} as never });
    expect(seen).toEqual([]);
    book.apply({ kind: 'address-removed', address: { ...base, address: '10.0.0.9', ifindex: 1 } });
    expect(seen).toEqual(['10.0.0.9']);
  });
});
