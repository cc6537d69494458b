/**
 * The built netlink layer in a process started by `ip netns exec` (the way an operator runs
 * keepalived in a namespace), not only after setns() inside the test process. Uses the
 * compiled dist/ tree that `npm test` builds first; skips, saying so, when dist/ is missing
 * or older than the sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Namespaces, ipJson, ipn, netnsUnavailableReason } from './netns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const builtIndex = join(root, 'dist', 'src', 'netlink', 'index.js');

function distUnavailableReason(): string | null {
  if (!existsSync(builtIndex)) return `${builtIndex} missing: run \`npm run build\` first`;
  for (const dir of ['netlink', 'native']) {
    const srcDir = join(root, 'src', dir);
    for (const file of readdirSync(srcDir, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
      const built = join(root, 'dist', 'src', dir, file.replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(srcDir, file)).mtimeMs) {
        return `dist/ is older than src/${dir}/${file}: run \`npm run build\` first`;
      }
    }
  }
  return null;
}

const unavailable = netnsUnavailableReason() ?? distUnavailableReason();
if (unavailable) console.warn(`skipping ip netns exec test: ${unavailable}`);

// Runs inside the namespace: adds a labelled VIP, lists it back, announces it, reports JSON.
const probe = `
const { RouteNetlink, Announcer } = await import(process.argv[1]);
const rtnl = RouteNetlink.open();
const link = await rtnl.getLink('kt-nl-e0');
const outcome = await rtnl.addAddress({ ifindex: link.index, family: 4, address: '192.0.2.77', prefix: 24, label: 'kt-nl-e0:x' });
const listed = (await rtnl.listAddresses({ ifindex: link.index, family: 4 })).map((a) => [a.address, a.label]);
const announcer = new Announcer();
announcer.announce(link, '192.0.2.77');
announcer.close();
rtnl.close();
console.log(JSON.stringify({ index: link.index, mac: link.mac, outcome, listed }));
`;

describe.skipIf(unavailable !== null)('under ip netns exec', () => {
  const namespaces = new Namespaces();
  let ns = '';
  let peer = '';

  beforeAll(() => {
    ns = namespaces.create('ex');
    peer = namespaces.create('ey');
    ipn(ns, 'link', 'add', 'kt-nl-e0', 'type', 'veth', 'peer', 'name', 'kt-nl-e1', 'netns', peer);
    ipn(ns, 'link', 'set', 'kt-nl-e0', 'up');
    ipn(peer, 'addr', 'add', '192.0.2.2/24', 'dev', 'kt-nl-e1');
    ipn(peer, 'link', 'set', 'kt-nl-e1', 'up');
  });

  afterAll(() => namespaces.deleteAll());

  it('manages addresses and announces them inside the namespace it was started in', () => {
    ipn(peer, 'neigh', 'replace', '192.0.2.77', 'lladdr', '02:00:00:00:00:99', 'dev', 'kt-nl-e1', 'nud', 'stale');
    execFileSync('sleep', ['1.2']); // past the peer's neighbour locktime (1 s)
    const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', probe, builtIndex], {
      encoding: 'utf8',
    });
    const result = JSON.parse(out) as { index: number; mac: string; outcome: string; listed: [string, string][] };
    // `ip link show NAME` fails when the link is absent, so its list has the one entry
    const ours = ipJson<{ ifindex: number; address: string }[]>(ns, 'link', 'show', 'kt-nl-e0')[0]!;
    expect(result).toEqual({ index: ours.ifindex, mac: ours.address, outcome: 'added', listed: [['192.0.2.77', 'kt-nl-e0:x']] });
    expect(ipn(ns, 'addr', 'show', 'dev', 'kt-nl-e0')).toContain('inet 192.0.2.77/24 scope global kt-nl-e0:x');
    const entry = ipJson<{ lladdr?: string }[]>(peer, 'neigh', 'show', '192.0.2.77', 'dev', 'kt-nl-e1')[0];
    expect(entry?.lladdr).toBe(ours.address);
  });
});
