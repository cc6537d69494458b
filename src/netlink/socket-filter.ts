// Classic BPF socket filters (SO_ATTACH_FILTER) on the source address of a raw IP socket's
// datagrams, so the kernel decides which socket queues what: a socket that takes only some
// sources never has their packets crowded out by a flood from the others. Pure: builds the
// program as the kernel's struct sock_filter array; RawReceiver.attachFilter installs it.
import { endianness } from 'node:os';
import { ipToBytes } from '../ip/address.js';

// struct sock_filter opcodes (linux/filter.h, linux/bpf_common.h)
const LD_W_ABS = 0x20;
const JMP_JEQ_K = 0x15;
const RET_K = 0x06;
/** Loads relative to the network header, wherever the socket's data starts (IPv6 raw sockets start after it). */
const SKF_NET_OFF = -0x100000;
const ACCEPT = 0xffffffff;
const DROP = 0;
/** A conditional jump reaches at most 255 instructions ahead: this many IPv6 addresses fit. */
export const FILTER_MAX_SOURCES = 16;

export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/**
 * A program that keeps datagrams from `sources` (keep 'only') or from anyone else (keep
 * 'others'). Up to FILTER_MAX_SOURCES addresses of one family.
 */
export function sourceFilterProgram(family: 4 | 6, sources: readonly string[], keep: 'only' | 'others'): Instruction[] {
  if (sources.length > FILTER_MAX_SOURCES) throw new RangeError(`a source filter takes at most ${FILTER_MAX_SOURCES} addresses, not ${sources.length}`);
  const words = family === 4 ? 1 : 4;
  const srcOffset = family === 4 ? 12 : 8;
  const block = 2 * words; // a load and a comparison per 32-bit word
  const noMatchAt = sources.length * block;
  const matchAt = noMatchAt + 1;
  const program: Instruction[] = [];
  for (const source of sources) {
    const bytes = ipToBytes(source);
    if (bytes.length !== 4 * words) throw new RangeError(`${source} is not an IPv${family} address`);
    const nextBlock = program.length + block;
    for (let w = 0; w < words; w++) {
      program.push({ code: LD_W_ABS, jt: 0, jf: 0, k: (SKF_NET_OFF + srcOffset + 4 * w) >>> 0 });
      const here = program.length + 1; // jumps count from the next instruction
      const last = w === words - 1;
      // a word that differs: try the next address; the last word equal: matched
      program.push({ code: JMP_JEQ_K, jt: last ? matchAt - here : 0, jf: nextBlock - here, k: bytes.readUInt32BE(4 * w) });
    }
  }
  program.push({ code: RET_K, jt: 0, jf: 0, k: keep === 'only' ? DROP : ACCEPT });
  program.push({ code: RET_K, jt: 0, jf: 0, k: keep === 'only' ? ACCEPT : DROP });
  return program;
}

/** struct sock_filter[] in host byte order: u16 code, u8 jt, u8 jf, u32 k. */
export function encodeFilter(program: readonly Instruction[]): Buffer {
  const b = Buffer.alloc(program.length * 8);
  const le = endianness() === 'LE';
  program.forEach((insn, i) => {
    if (le) b.writeUInt16LE(insn.code, i * 8);
    else b.writeUInt16BE(insn.code, i * 8);
    b[i * 8 + 2] = insn.jt;
    b[i * 8 + 3] = insn.jf;
    if (le) b.writeUInt32LE(insn.k, i * 8 + 4);
    else b.writeUInt32BE(insn.k, i * 8 + 4);
  });
  return b;
}
