// Address text <-> bytes for the VRRP codec. Kept here (not node:net) so the codec stays a
// pure, allocation-light module whose behaviour on odd input we control: parsing returns
// null instead of throwing, because decoded packets and configs both feed it.

/** Parses dotted-quad IPv4 text into 4 bytes, or null when it is not one. */
export function parseIpv4(text: string): Buffer | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** Parses IPv6 text (with `::` and an optional trailing dotted quad) into 16 bytes, or null. */
export function parseIpv6(text: string): Buffer | null {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    // a placeholder group that expands to the two groups of the dotted quad
    s = s.slice(0, lastColon + 1) + 'x';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const toGroups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (g === 'x') {
        out.push(...tail);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = toGroups(halves[0]!);
  const rest = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

export function parseAddress(text: string, family: 4 | 6): Buffer | null {
  return family === 4 ? parseIpv4(text) : parseIpv6(text);
}

export function formatIpv4(b: Buffer, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 canonical text: lower case, longest run (>= 2) of zero groups as `::`. */
export function formatIpv6(b: Buffer, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(off + i * 2));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Slots of an AddressTextCache: more than the addresses of a thousand instances' adverts. */
const TEXT_CACHE_BITS = 11;

/**
 * The last text made for the addresses that hash to each slot: every received advert's source,
 * destination and addresses are formatted, and they are the same few addresses each time, so
 * nearly every call finds its text here instead of building a string.
 */
class AddressTextCache {
  private keys: Uint8Array | null = null;
  private texts: (string | undefined)[] = [];
  constructor(
    private readonly width: number,
    private readonly format: (b: Buffer, off: number) => string,
  ) {}
  text(b: Buffer, off: number): string {
    const w = this.width;
    if (off < 0 || off + w > b.length) return this.format(b, off);
    let h = 0;
    for (let i = 0; i < w; i++) h = Math.imul(h ^ b[off + i]!, 0x9e3779b1);
    const slot = h >>> (32 - TEXT_CACHE_BITS);
    const at = slot * w;
    let keys = this.keys;
    if (!keys) {
      // made on first use: a process that formats no address keeps none of it
      keys = this.keys = new Uint8Array(w << TEXT_CACHE_BITS);
      this.texts = new Array<string | undefined>(1 << TEXT_CACHE_BITS).fill(undefined);
    }
    const cached = this.texts[slot];
    if (cached !== undefined) {
      let same = true;
      for (let i = 0; i < w && same; i++) same = keys[at + i] === b[off + i];
      if (same) return cached;
    }
    const text = this.format(b, off);
    for (let i = 0; i < w; i++) keys[at + i] = b[off + i]!;
    this.texts[slot] = text;
    return text;
  }
}

const ipv4Texts = new AddressTextCache(4, formatIpv4);
const ipv6Texts = new AddressTextCache(16, formatIpv6);

/** The canonical text of the address at b[off] (formatIpv4 / formatIpv6). */
export function formatAddress(b: Buffer, family: 4 | 6, off = 0): string {
  return family === 4 ? ipv4Texts.text(b, off) : ipv6Texts.text(b, off);
}

/** Normalises address text so two spellings of one address compare equal; null if invalid. */
export function canonicalAddress(text: string, family: 4 | 6): string | null {
  const b = parseAddress(text, family);
  return b ? formatAddress(b, family) : null;
}

/** Compares two addresses of one family as unsigned big-endian numbers (tie break rule). */
export function compareAddresses(a: string, b: string, family: 4 | 6): number {
  const ba = parseAddress(a, family);
  const bb = parseAddress(b, family);
  if (!ba || !bb) return ba ? 1 : bb ? -1 : 0;
  return Buffer.compare(ba, bb);
}
