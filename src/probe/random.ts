// Random query ids and payloads for the probes, from node:crypto loaded on first use: most
// configs run no check that needs one, and node:crypto (OpenSSL's bindings) would otherwise
// stay resident in every checker child.
import { createRequire } from 'node:module';

type Crypto = typeof import('node:crypto');
let crypto: Crypto | undefined;
const cryptoModule = (): Crypto => (crypto ??= createRequire(import.meta.url)('node:crypto') as Crypto);

/** A random 16-bit id (ICMP echo identifier and sequence, DNS query id). */
export function randomId16(): number {
  return cryptoModule().randomInt(0, 0x10000);
}

/** `n` random bytes. */
export function randomPayload(n: number): Buffer {
  return cryptoModule().randomBytes(n);
}
