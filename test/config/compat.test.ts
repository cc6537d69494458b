// Drop-in on real configs: every file of test/fixtures/corpus (keepalived.conf files from
// public projects, sources in its SOURCES), test/fixtures/compat (one construct of issue 12
// each, see its README.md) and test/fixtures/broken, run by keepalived 2.2.7 and by
// keepalived-ts in the same network namespace (see compat-harness.ts). keepalived's verdict
// is taken live, never recorded:
// - our VRRP daemon comes up exactly where keepalived's does, running the same instances with
//   the same VRID, priority, state, interface, VIPs, peers, tracking and authentication;
// - our checker accepts the virtual servers exactly where keepalived's does, with the same
//   real servers under each;
// - our `-t` reports something at every line keepalived's `-t` logs a problem for, says
//   "would not start" (exit 4) exactly where the daemons refuse, and exits 6 (scripts without
//   script security) exactly where keepalived's does.
// COMPAT_ONLY=REGEX runs only the files whose path matches (while working on one).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { netnsUnavailable } from './netns.js';
import {
  KEEPALIVED,
  blockSpans,
  checkerServices,
  closeLane,
  compareOnFile,
  header,
  inLanes,
  openLane,
  type Lane,
  keepalivedLineMessages,
  ourLines,
  parseCheckerServices,
  summarise,
  type CompatRun,
} from './compat-harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures');
const list = (dir: string) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.conf'))
    .sort()
    .map((f) => join(FIXTURES, dir, f));
const corpus = list('corpus');
const compat = list('compat');
const only = process.env.COMPAT_ONLY ? new RegExp(process.env.COMPAT_ONLY) : null;
const files = [...corpus, ...compat, ...list('broken')].filter((f) => !only || only.test(f));

const why =
  netnsUnavailable() ??
  (existsSync(KEEPALIVED) ? null : `keepalived 2.2.7 (${KEEPALIVED}) is not installed`) ??
  (existsSync(join(ROOT, 'dist/src/cli/main.js')) ? null : 'dist/ is not built (npm run build)');
if (why) console.warn(`compat.test: skipped: ${why}`);

/**
 * keepalived messages at a line that are not about what is written there, with why ours
 * need not point at that line.
 */
const NOT_ABOUT_THE_LINE: [RegExp, string][] = [
  // the end of a block: keepalived logs the whole instance's checks at its closing line
  [/No VIP specified; at least one is sensible/, 'a remark on the instance as a whole, logged at its last line'],
];

/**
 * - vrrp-model: both run the file; the instances run with different settings;
 * - checker-services: both accept the file; the real servers under each service differ;
 * - keepalived-crashes: keepalived's checker process crashes on the file (it respawns it);
 * - ours-refuses: keepalived starts on the file and ours does not.
 */
type Check = 'vrrp-model' | 'checker-services' | 'keepalived-crashes' | 'ours-refuses';

/**
 * Where keepalived-ts knowingly differs from keepalived 2.2.7 on a file, and why. The test
 * asserts each difference is still there, so this list stays true.
 */
const DIFFERENCES: Record<string, { check: Check; why: string }> = {
  'corpus/keepalived-docker-keepalived-conf.conf': {
    check: 'vrrp-model',
    why: "use_vmac: keepalived's model puts the VIPs on the macvlan vrrp.51; ours (read from the config model) on the base interface, since the VRRP child places them on the VMAC it creates at start (test/vrrp/vmac.test.ts)",
  },
  'corpus/linuxgateway-keepalived-conf.conf': {
    check: 'vrrp-model',
    why: "use_vmac: keepalived's model puts the VIPs on the macvlans pub_a / pvt_a; ours (read from the config model) on the base interfaces, since the VRRP child places them on the VMACs it creates at start (test/vrrp/vmac.test.ts)",
  },
  'broken/duplicate-virtual-server.conf': {
    check: 'checker-services',
    why: 'keepalived keeps both blocks of one service and adds it twice (the kernel\'s "exists" is not an error to it), so the kernel table holds one service; keepalived-ts merges the second into the first: the same table, one set of checkers',
  },
  'broken/http-get-without-url.conf': {
    check: 'keepalived-crashes',
    why: 'keepalived 2.2.7 logs "HTTP/SSL_GET checker has no urls specified - ignoring" and then its checker process (and its -t) dies on a signal; keepalived-ts does what the message says: the real server runs without that checker',
  },
  'broken/url-without-path.conf': {
    check: 'keepalived-crashes',
    why: "as http-get-without-url: the url without a path is dropped, the HTTP_GET is left with none, and keepalived 2.2.7's checker dies; keepalived-ts runs the real server without that checker",
  },
  'broken/value-keyword-with-block.conf': {
    check: 'ours-refuses',
    why: "keepalived reads `priority 100 {` as `priority 100` plus a stray `{`, so the `}` below it closes the vrrp_instance and the instance's virtual_ipaddress block is read at the top level and dropped: it runs the instance without its VIPs. keepalived-ts refuses the file, pointing at the `{`, rather than start a router that silently lost its addresses",
  },
};

/** Each file's run, started in file order over a few lanes; each test awaits its own. */
const results = new Map<string, Promise<CompatRun>>();
const name = (file: string) => file.slice(FIXTURES.length + 1);

/** `vrrpInstances.0.priority` in a model (arrays by index). */
function at(model: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o === null || o === undefined ? undefined : (o as Record<string, unknown>)[k]), model);
}

describe.skipIf(why !== null)('keepalived 2.2.7 and keepalived-ts on the same files', () => {
  let lanes: Lane[] = [];
  beforeAll(async () => {
    // a file's run mostly waits (daemons starting and stopping, keepalived's cached), so the
    // lanes outnumber the cores
    lanes = await Promise.all(Array.from({ length: Math.min(files.length, Number(process.env.COMPAT_WIDTH ?? 8)) }, openLane));
    const t0 = Date.now();
    const started = new Map(
      files.map((f) => {
        let done!: (r: CompatRun) => void;
        let fail!: (e: unknown) => void;
        results.set(
          f,
          new Promise<CompatRun>((res, rej) => {
            done = res;
            fail = rej;
          }),
        );
        return [f, { done, fail }] as const;
      }),
    );
    const all = inLanes(files, lanes, async (f, lane) => {
      try {
        started.get(f)!.done(await compareOnFile(f, lane));
      } catch (e) {
        started.get(f)!.fail(e);
      }
    });
    void all.then(() => console.log(`compat: ${files.length} files in ${((Date.now() - t0) / 1000).toFixed(0)} s`));
    return async () => {
      await all;
      await Promise.all(lanes.map(closeLane));
      // the agreement on the VRRP daemon coming up, over the files keepalived gave a verdict on
      const counts = { both: 0, onlyKeepalived: 0, onlyOurs: 0, neither: 0 };
      for (const p of results.values()) {
        const r = await p.catch(() => null);
        const theirs = r?.theirs.vrrp;
        const ours = r?.ours.vrrp;
        if (!theirs || !ours) continue;
        counts[theirs.up ? (ours.up ? 'both' : 'onlyKeepalived') : ours.up ? 'onlyOurs' : 'neither']++;
      }
      console.log(
        `compat: VRRP daemon up: both ${counts.both}, only keepalived ${counts.onlyKeepalived}, only ours ${counts.onlyOurs}, neither ${counts.neither}`,
      );
    };
  });

  it('has at least 60 real configs, each naming its source', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    const sources = readFileSync(join(FIXTURES, 'corpus/SOURCES'), 'utf8');
    for (const f of corpus) {
      expect(readFileSync(f, 'utf8')).toMatch(/^# corpus: \S+\/\S+ \S+ \(commit [0-9a-f]{12}\)\n/);
      expect(sources).toContain(`${f.split('/').pop()}\t`);
    }
  });

  it('has one fixture per construct, each stating what keepalived does with it', () => {
    expect(compat.length).toBeGreaterThanOrEqual(20);
    for (const f of compat) {
      const text = readFileSync(f, 'utf8');
      expect(header(text, 'construct'), f).toHaveLength(1);
      expect(header(text, 'keepalived'), f).toEqual([expect.stringMatching(/^(starts|refuses)$/)]);
    }
  });

  for (const file of files) {
    it(
      name(file),
      async () => {
        const r = await results.get(file)!;
        const known = DIFFERENCES[name(file)];
        const theirs = r.theirs.vrrp;
        let refused = false;
        if (theirs) {
          const ours = r.ours.vrrp!;
          refused ||= !theirs.up;
          const start = expect.soft({ up: ours.up }, `VRRP daemon start\n--- keepalived:\n${theirs.log.slice(-3000)}\n--- ours:\n${ours.log.slice(-3000)}`);
          if (known?.check === 'ours-refuses') start.toEqual({ up: false });
          else start.toEqual({ up: theirs.up });
          if (theirs.up && known?.check !== 'ours-refuses') {
            expect.soft(ours.instances, 'the instances that run').toEqual(theirs.instances);
            const model = expect.soft(summarise(r.ours.model!), known ? `still differs: ${known.why}` : 'what each instance runs with');
            if (known?.check === 'vrrp-model') model.not.toEqual(theirs.model);
            else model.toEqual(theirs.model);
          }
        }
        if (r.theirs.checker !== null) {
          if (known?.check === 'keepalived-crashes') {
            expect.soft(r.theirs.checkerLog, `keepalived's checker still crashes: ${known.why}`).toMatch(/Healthcheck child process\(\d+\) died: Respawning/);
            expect.soft(r.ours.checker, 'ours runs the file').toBe(true);
          } else {
            refused ||= !r.theirs.checker;
            expect.soft(r.ours.checker, `checker accepts the virtual servers\n--- keepalived:\n${r.theirs.checkerLog.slice(-3000)}`).toBe(r.theirs.checker);
          }
          const services = parseCheckerServices(r.theirs.checkerLog);
          if (r.ours.model && services.length > 0) {
            const same = expect.soft(
              checkerServices(r.ours.model),
              known?.check === 'checker-services' ? `still differs: ${known.why}` : 'the real servers of each virtual server',
            );
            if (known?.check === 'checker-services') same.not.toEqual(services);
            else same.toEqual(services);
          }
        }
        const code = r.ours.test.code;
        const ranOne = r.theirs.vrrp !== null || r.theirs.checker !== null;
        if (ranOne && !known)
          expect.soft(code === 4, `-t says "would not start" exactly where the daemons refuse (ours -t: ${code})\n${r.ours.test.verdict}`).toBe(refused);
        if (code !== 4) expect.soft(code === 6, `-t exits 6 exactly where keepalived's does (${r.theirs.testStatus})`).toBe(r.theirs.testStatus === 6);
        // every line keepalived -t logs a problem at, ours -t reports at too
        const text = readFileSync(file, 'utf8');
        const ours = ourLines(r.ours.test.diagnostics, file);
        const spans = blockSpans(text);
        const covered = (n: number) => ours.has(n) || [...ours].some((o) => (spans.get(o) ?? o) >= n && o < n);
        const missed = keepalivedLineMessages(r.theirs.testOutput, file).filter(([n, msg]) => !covered(n) && !NOT_ABOUT_THE_LINE.some(([re]) => re.test(msg)));
        // (a file ours refuses may draw keepalived complaints about lines it misreads)
        if (known?.check !== 'ours-refuses')
          expect.soft(missed, `keepalived -t:\n${r.theirs.testOutput}\n--- ours -t:\n${r.ours.test.diagnostics}`).toEqual([]);

        // a compat fixture's own statements
        const claim = header(text, 'keepalived')[0];
        if (claim) expect.soft(refused ? 'refuses' : 'starts', 'what keepalived does with the file').toBe(claim);
        const everything = [r.theirs.testOutput, r.theirs.vrrp?.log ?? '', r.theirs.checkerLog].join('\n');
        for (const re of header(text, 'keepalived-log')) expect.soft(everything, `keepalived logs /${re}/`).toMatch(new RegExp(re));
        for (const re of header(text, 'keepalived-quiet')) expect.soft(everything, `keepalived does not log /${re}/`).not.toMatch(new RegExp(re));
        for (const m of header(text, 'model')) {
          const [path, value] = m.split(/ = (.*)/);
          expect.soft(at(r.ours.model, path ?? ''), `model ${path}`).toEqual(JSON.parse(value ?? 'null'));
        }
        if (r.vips) expect.soft(r.vips.ours, 'the addresses on the interfaces').toEqual(r.vips.theirs);
      },
      180_000,
    );
  }
});
