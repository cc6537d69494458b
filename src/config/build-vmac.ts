// use_vmac and use_ipvlan of a vrrp_instance, read word by word as keepalived 2.2.7's
// handlers do (vrrp_parser.c): a word with a ':' is use_vmac's MAC, bridge/private/vepa are
// use_ipvlan's mode, an address is its address, anything else the interface name. A word
// keepalived would drop is dropped here too, with a warning at it.
import type { Word } from './ast.js';
import { familyOf } from './build-values.js';
import type { IpvlanMode, SourcePos, VirtualLinkConfig } from './model.js';

export type Warn = (pos: SourcePos, message: string) => void;

/** Linux's dev_name_valid(): 1-15 bytes, not `.`/`..`, no `/`, `:` or white space. */
export function validLinkName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) < 16 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

/**
 * use_vmac's MAC as keepalived reads it: six hex octets, or five (the VRID then supplies
 * the last, marked by a trailing `*` here: the VRID is not known while reading).
 * Null when keepalived would ignore the word.
 */
export function parseVmacMac(text: string): string | null {
  if (!/^[0-9a-f:]+$/i.test(text)) return null;
  const parts = text.replace(/:$/, '').split(':');
  if (parts.length < 5 || parts.length > 6 || parts.some((p) => p.length < 1 || p.length > 2)) return null;
  const octets = parts.map((p) => p.padStart(2, '0').toLowerCase());
  return parts.length === 5 ? `${octets.join(':')}:*` : octets.join(':');
}

const RFC5798_PREFIX = /^00:00:5e:00:0[12]:/;

export function useVmacConfig(words: readonly Word[], pos: SourcePos, warn: Warn): VirtualLinkConfig {
  const out: VirtualLinkConfig = { kind: 'macvlan', name: null, mac: null, ipvlanMode: 'bridge', ipvlanAddress: null, pos };
  for (const w of words.slice(0, 2)) {
    if (w.text.includes(':')) {
      if (out.mac !== null) {
        warn(w.pos, 'use_vmac: the MAC address is already given; keepalived ignores this one');
        continue;
      }
      const mac = parseVmacMac(w.text);
      if (mac === null) warn(w.pos, `use_vmac: invalid MAC address ${w.text}: keepalived ignores it`);
      else if (parseInt(mac.slice(0, 2), 16) & 1) warn(w.pos, `use_vmac: MAC address ${w.text} is multicast: keepalived ignores it`);
      else if (RFC5798_PREFIX.test(mac)) warn(w.pos, `use_vmac: MAC address ${w.text} is an RFC 5798 address, which keepalived does not allow: ignored`);
      else out.mac = mac;
    } else if (out.name !== null) {
      warn(w.pos, 'use_vmac: the interface name is already given; keepalived ignores this one');
    } else if (!validLinkName(w.text)) {
      warn(w.pos, `use_vmac: interface name '${w.text}' is too long or has invalid characters: keepalived ignores it`);
    } else out.name = w.text;
  }
  return out;
}

const IPVLAN_MODES: readonly string[] = ['bridge', 'private', 'vepa'] satisfies IpvlanMode[];

export function useIpvlanConfig(words: readonly Word[], pos: SourcePos, warn: Warn): VirtualLinkConfig {
  const out: VirtualLinkConfig = { kind: 'ipvlan', name: null, mac: null, ipvlanMode: 'bridge', ipvlanAddress: null, pos };
  let modeGiven = false;
  for (const w of words) {
    if (IPVLAN_MODES.includes(w.text)) {
      if (modeGiven) warn(w.pos, `use_ipvlan: the type is already given; keepalived ignores '${w.text}'`);
      else out.ipvlanMode = w.text as IpvlanMode;
      modeGiven = true;
      continue;
    }
    const [address = '', prefixText] = w.text.split('/');
    const family = familyOf(address);
    if (family) {
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        warn(w.pos, `use_ipvlan: invalid prefix in ${w.text}: ignored`);
      } else if (out.ipvlanAddress) warn(w.pos, `use_ipvlan: the address is already given; keepalived ignores '${w.text}'`);
      else out.ipvlanAddress = { address, prefix };
      continue;
    }
    if (out.name !== null) warn(w.pos, `use_ipvlan: the interface is already given; keepalived ignores '${w.text}'`);
    else if (!validLinkName(w.text)) warn(w.pos, `use_ipvlan: interface name '${w.text}' is too long: keepalived ignores it`);
    else out.name = w.text;
  }
  return out;
}
