// keepalived's genhash mode (-T, or the separate `genhash` tool): fetch a URL from a real server
// and print the MD5 digest an HTTP_GET / SSL_GET `digest` line expects. Same options as
// keepalived 2.2's genhash, so operators' runbooks keep working.
import type { HttpProtocol } from '../config/model.js';
import { genhash } from '../probe/http-check.js';

export const GENHASH_HELP = `Usage: keepalived-ts -T COMMAND [OPTIONS]
Commands:
   -s server-address -p port -u url
   -S -s server-address -p port -u url
   -h

Options:
   --use-ssl         -S       Use SSL connection to remote server.
   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).
   --server          -s       Use the specified remote server address.
   --port            -p       Use the specified remote server port.
   --url             -u       Use the specified remote server url.
   --use-virtualhost -V       Use the specified virtualhost in GET query.
   --verbose         -v       Use verbose mode output.
   --help            -h       Display this short inlined help screen.
   --fwmark          -m       Accepted for compatibility; ignored.
   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.
   --timeout         -t       Timeout in seconds
`;

export interface GenhashArgs {
  ssl: boolean;
  sni: boolean;
  server: string | null;
  port: number | null;
  url: string | null;
  virtualhost: string | null;
  verbose: boolean;
  help: boolean;
  timeoutS: number;
  protocol: HttpProtocol;
}

const LONG: Record<string, string> = {
  'use-ssl': 'S',
  'use-sni': 'I',
  server: 's',
  port: 'p',
  url: 'u',
  'use-virtualhost': 'V',
  verbose: 'v',
  help: 'h',
  fwmark: 'm',
  protocol: 'P',
  timeout: 't',
};
const KNOWN = new Set(Object.values(LONG));
const TAKES_VALUE = new Set(['s', 'p', 'u', 'V', 'm', 'P', 't']);

/** Pure: genhash's argument words to options, or an error sentence. */
export function parseGenhashArgs(words: readonly string[]): GenhashArgs | string {
  const a: GenhashArgs = {
    ssl: false,
    sni: false,
    server: null,
    port: null,
    url: null,
    virtualhost: null,
    verbose: false,
    help: false,
    timeoutS: 5,
    protocol: '1.0',
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let key: string | undefined;
    let value: string | undefined;
    if (w.startsWith('--')) {
      const [name, v] = w.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      key = LONG[name];
      value = v;
    } else if (/^-[A-Za-z]/.test(w)) {
      key = w[1];
      if (w.length > 2) value = w.slice(2);
    }
    if (!key || !KNOWN.has(key)) return `unrecognized argument \`${w}\``;
    if (TAKES_VALUE.has(key) && value === undefined) {
      value = words[++i];
      if (value === undefined) return `option \`${w}\` needs a value`;
    }
    switch (key) {
      case 'S':
        a.ssl = true;
        break;
      case 'I':
        a.sni = true;
        break;
      case 's':
        a.server = value!;
        break;
      case 'p': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1 || n > 65535) return `invalid port \`${value}\``;
        a.port = n;
        break;
      }
      case 'u':
        a.url = value!;
        break;
      case 'V':
        a.virtualhost = value!;
        break;
      case 'v':
        a.verbose = true;
        break;
      case 'h':
        a.help = true;
        break;
      case 't': {
        const n = Number(value);
        if (!(n > 0)) return `invalid timeout \`${value}\``;
        a.timeoutS = n;
        break;
      }
      case 'P': {
        const p = value === '1.0' ? '1.0' : value === '1.1' ? '1.1' : value?.toUpperCase() === '1.0C' ? '1.0C' : null;
        if (!p) return `invalid HTTP protocol version \`${value}\``;
        a.protocol = p;
        break;
      }
      default:
        break; // -m: accepted, no effect
    }
  }
  if (!a.help && (!a.server || !a.url)) return 'a server address (-s) and a url (-u) are required';
  return a;
}

/** Runs genhash mode; returns the exit code. */
export async function runGenhash(words: readonly string[]): Promise<number> {
  const a = parseGenhashArgs(words);
  if (typeof a === 'string') {
    process.stderr.write(`genhash: ${a}\n${GENHASH_HELP}`);
    return 1;
  }
  if (a.help) {
    process.stdout.write(GENHASH_HELP);
    return 0;
  }
  const host = a.server!.includes(':') ? `[${a.server}]` : a.server!;
  const port = a.port ?? (a.ssl ? 443 : 80);
  const path = a.url!.startsWith('/') ? a.url! : `/${a.url}`;
  try {
    const r = await genhash(`${a.ssl ? 'https' : 'http'}://${host}:${port}${path}`, {
      virtualhost: a.virtualhost,
      enableSni: a.sni,
      timeoutMs: a.timeoutS * 1000,
      protocol: a.protocol,
    });
    if (a.verbose) process.stdout.write(`HTTP status ${r.status}, ${r.bytes} bytes of body\n`);
    process.stdout.write(`${r.digest}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`genhash: ${a.server}:${port}${path}: ${(err as Error).message}\n`);
    return 1;
  }
}
