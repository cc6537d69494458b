// The TLS client side of every SSL_GET, from the top-level `SSL` block: keepalived builds one
// context at start (certificate chain, key decrypted with `password`, CA file) and offers the
// certificate to any server that asks. It sets no verification, so the CA file is loaded but
// never decides a verdict; the SSL_GET connection itself passes rejectUnauthorized: false.
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { SslClient } from '../config/model.js';

export type SslContextResult = { context: SecureContext } | { error: string };

const built = new WeakMap<SslClient, SslContextResult>();

/** The SSL block's context, built once per loaded config; an error names the block's position. */
export function sslClientContext(ssl: SslClient): SslContextResult {
  let r = built.get(ssl);
  if (!r) {
    r = buildContext(ssl);
    built.set(ssl, r);
  }
  return r;
}

function buildContext(ssl: SslClient): SslContextResult {
  const where = `SSL block at ${ssl.pos.file}:${ssl.pos.line}:${ssl.pos.column}`;
  const read = (what: string, file: string): Buffer | string => {
    try {
      return readFileSync(file);
    } catch (e) {
      return `${where}: cannot read ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
    }
  };
  const files: { cert?: Buffer; key?: Buffer; ca?: Buffer } = {};
  for (const [field, what, file] of [
    ['cert', 'certificate', ssl.certificate],
    ['key', 'key', ssl.key],
    ['ca', 'ca', ssl.ca],
  ] as const) {
    if (file === null) continue;
    const data = read(what, file);
    if (typeof data === 'string') return { error: data };
    files[field] = data;
  }
  try {
    return { context: createSecureContext({ ...files, ...(ssl.password !== null ? { passphrase: ssl.password } : {}) }) };
  } catch {
    return { error: `${where}: the certificate, key (with its password) or CA file is not usable PEM, or the key does not fit the certificate` };
  }
}
