import { describe, expect, it } from 'vitest';
import { likelyChildren } from './children.js';

const none = { vrrpOnly: false, checkOnly: false, allConfig: false };

describe('likelyChildren', () => {
  it('guesses from the blocks the main file opens at the start of a line', () => {
    expect(likelyChildren('vrrp_instance VI_1 {\n}\n', none)).toEqual(['vrrp']);
    expect(likelyChildren('global_defs {\n}\n  virtual_server 10.0.0.1 80 {\n}\n', none)).toEqual(['checker']);
    expect(likelyChildren('virtual_server_group G {\n}\n\tvrrp_instance V {\n}\n', none)).toEqual(['vrrp']);
    expect(likelyChildren('vrrp_instance V {\n}\nvirtual_server 10.0.0.1 80 {\n}\n', none)).toEqual(['vrrp', 'checker']);
  });

  it('does not take a commented-out block, a keyword inside a word or an include for one', () => {
    expect(likelyChildren('# vrrp_instance VI_1 {\n! virtual_server 10.0.0.1 80 {\n', none)).toEqual([]);
    expect(likelyChildren('vrrp_instances X\nmy_virtual_server 1\ninclude /etc/keepalived/*.conf\n', none)).toEqual([]);
  });

  it('applies -P, -C and -e as the daemon does', () => {
    const both = 'vrrp_instance V {\n}\nvirtual_server 10.0.0.1 80 {\n}\n';
    expect(likelyChildren(both, { ...none, vrrpOnly: true })).toEqual(['vrrp']);
    expect(likelyChildren(both, { ...none, checkOnly: true })).toEqual(['checker']);
    expect(likelyChildren('', { ...none, allConfig: true })).toEqual(['vrrp', 'checker']);
  });
});
