// The source filters, run by a small classic-BPF interpreter over IP headers (the kernel
// runs them for real in test/netlink/raw-receiver.test.ts).
import { describe, expect, it } from 'vitest';
import { ipToBytes } from '../ip/address.js';
import { encodeFilter, FILTER_MAX_SOURCES, sourceFilterProgram, type Instruction } from './socket-filter.js';

const SKF_NET_OFF = -0x100000;

/** Runs the program over a packet whose network header is `net`; returns the bytes kept (0: dropped). */
function run(program: Instruction[], net: Buffer): number {
  let a = 0;
  for (let pc = 0; pc < program.length;) {
    const i = program[pc]!;
    if (i.code === 0x20) {
      const off = (i.k | 0) - SKF_NET_OFF;
      a = net.readUInt32BE(off);
      pc++;
    } else if (i.code === 0x15) pc += 1 + (a === i.k ? i.jt : i.jf);
    else if (i.code === 0x06) return i.k;
    else throw new Error(`unexpected opcode ${i.code}`);
  }
  throw new Error('fell off the end');
}

function ipv4(src: string): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  ipToBytes(src).copy(h, 12);
  ipToBytes('224.0.0.18').copy(h, 16);
  return h;
}

function ipv6(src: string): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  ipToBytes(src).copy(h, 8);
  ipToBytes('ff02::12').copy(h, 24);
  return h;
}

describe('sourceFilterProgram', () => {
  it('IPv4: keeps only the given sources, or everyone else', () => {
    const only = sourceFilterProgram(4, ['10.0.0.1', '10.0.0.7'], 'only');
    const others = sourceFilterProgram(4, ['10.0.0.1', '10.0.0.7'], 'others');
    for (const [src, known] of [
      ['10.0.0.1', true],
      ['10.0.0.7', true],
      ['10.0.0.2', false],
      ['1.2.3.4', false],
    ] as const) {
      expect(run(only, ipv4(src)) > 0, `only ${src}`).toBe(known);
      expect(run(others, ipv4(src)) > 0, `others ${src}`).toBe(!known);
    }
  });

  it('IPv6: compares all four words (addresses sharing a prefix or a suffix are told apart)', () => {
    const known = ['fe80::1', 'fe80::2:0:0:1'];
    const only = sourceFilterProgram(6, known, 'only');
    expect(run(only, ipv6('fe80::1')) > 0).toBe(true);
    expect(run(only, ipv6('fe80::2:0:0:1')) > 0).toBe(true);
    for (const src of ['fe80::2', 'fe81::1', 'fe80::2:0:0:2', '::1', 'fe80::1:0:0:1']) expect(run(only, ipv6(src)), src).toBe(0);
  });

  it('with no sources: a socket that takes nothing, or everything', () => {
    expect(run(sourceFilterProgram(4, [], 'only'), ipv4('10.0.0.1'))).toBe(0);
    expect(run(sourceFilterProgram(6, [], 'others'), ipv6('fe80::1'))).toBeGreaterThan(0);
  });

  it(`holds ${FILTER_MAX_SOURCES} IPv6 sources within the reach of a jump, and refuses more`, () => {
    const many = Array.from({ length: FILTER_MAX_SOURCES }, (_, i) => `fe80::${i + 1}`);
    const p = sourceFilterProgram(6, many, 'only');
    expect(p.every((i) => i.jt <= 255 && i.jf <= 255)).toBe(true);
    expect(many.every((s) => run(p, ipv6(s)) > 0)).toBe(true);
    expect(run(p, ipv6('fe80::99'))).toBe(0);
    expect(() => sourceFilterProgram(6, [...many, 'fe80::99'], 'only')).toThrow(RangeError);
    expect(() => sourceFilterProgram(4, ['fe80::1'], 'only')).toThrow(/not an IPv4 address/);
  });
});

describe('encodeFilter', () => {
  it('lays out struct sock_filter: u16 code, u8 jt, u8 jf, u32 k (host order)', () => {
    const b = encodeFilter([{ code: 0x15, jt: 1, jf: 2, k: 0x0a000001 }]);
    expect(b.toString('hex')).toBe('1500' + '01' + '02' + '0100000a');
  });
});
