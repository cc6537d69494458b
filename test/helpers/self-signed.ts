// A self-signed certificate for TLS tests: an EC key (RSA generation takes seconds on a busy
// machine), written as DIR/NAME-key.pem and DIR/NAME-cert.pem; the key is encrypted when a
// password is given.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function selfSigned(dir: string, name: string, subject: string, password: string | null = null): { key: string; cert: string } {
  const key = join(dir, `${name}-key.pem`);
  const cert = join(dir, `${name}-cert.pem`);
  const protect = password === null ? ['-nodes'] : ['-passout', `pass:${password}`];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', ...protect, '-days', '1', '-subj', subject, '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  return { key, cert };
}
