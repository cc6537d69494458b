import { describe, expect, it } from 'vitest';
import { findAddonPath } from './native.js';

describe('native addon lookup', () => {
  it('walks up from the module directory to build/Release', () => {
    const present = new Set(['/p/build/Release/keepalived_native.node']);
    expect(findAddonPath('/p/dist/src/netlink', (p) => present.has(p))).toBe('/p/build/Release/keepalived_native.node');
    expect(findAddonPath('/p/src/netlink', (p) => present.has(p))).toBe('/p/build/Release/keepalived_native.node');
    expect(findAddonPath('/q/src', () => false)).toBeNull();
  });
});
