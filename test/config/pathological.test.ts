// Issue 17's hostile configs at full size, through `bin/keepalived-ts -t` as an operator
// runs it: each ends with an error located at file:line:column that names the bound it
// crossed (or, for a deep include chain within the bound, parses), with the process's peak
// RSS under 1 GB, and within 150 s: a hang guard (these took minutes, or were killed at
// 4.3 GB, before), not a timing check.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_TEST_EXIT } from '../../src/cli/config-test.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/keepalived-ts');
const TIME = '/usr/bin/time';
const haveTime = fs.existsSync(TIME);
if (!haveTime) {
  // named environment check: .ci/run installs Debian's `time` package
  console.warn(`pathological: ${TIME} is missing, so a child's peak RSS cannot be measured; skipped`);
}

const MB = 1024 * 1024;
const GUARD_S = 150;

interface Run {
  status: number | null;
  stderr: string;
  peakMb: number;
}

/** `-t -f file` under /usr/bin/time (peak RSS) and timeout (the hang guard). */
function checkConfig(file: string): Run {
  const rssFile = `${file}.rss`;
  const r = spawnSync(TIME, ['-f', '%M', '-o', rssFile, 'timeout', '-k', '5', String(GUARD_S), BIN, '-t', '-f', file], {
    encoding: 'utf8',
    maxBuffer: 64 * MB,
  });
  const peakKb = Number(/(\d+)\s*$/.exec(fs.readFileSync(rssFile, 'utf8'))?.[1]);
  return { status: r.status, stderr: r.stderr, peakMb: peakKb / 1024 };
}

/** The promises every hostile file gets: finished, bounded, located, plain words. */
/** `status`: keepalived's -t exit codes (src/cli/config-test.ts): a file the daemon would refuse is 4. */
function expectBounded(run: Run, status: number = CONFIG_TEST_EXIT.unusable): void {
  expect(run.status, `exit status (124: still running after ${GUARD_S} s)`).toBe(status);
  expect(run.peakMb).toBeLessThan(1024);
  expect(run.stderr).not.toMatch(/RangeError|internal|Error:|\.js:\d+/);
  const lines = run.stderr.trimEnd().split('\n');
  // every line but the count is `file:line:column: severity: message`; the first 1,000, a
  // few saying where reading stopped, and how many more there were
  for (const l of lines.slice(0, -1)) expect(l).toMatch(/^[^\s:]+:\d+:\d+: (error|warning): \S/);
  expect(lines.length).toBeLessThanOrEqual(1010);
}

describe.runIf(haveTime)('hostile configs through -t', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };

  beforeAll(() => {
    // shapes one level down: the root glob below reads files three levels from the root
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kt-hostile-')), 'shapes');
  });
  afterAll(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('5,000,000 braces, on one line and one a line', () => {
    const line = write('brace-line.conf', `${'{'.repeat(5_000_000)}\n`);
    const run = checkConfig(line);
    expectBounded(run);
    expect(run.stderr).toContain(`${line}:1:1: error: line longer than 64 KiB; it is not read`);
    const lines = write('brace-lines.conf', '{\n'.repeat(5_000_000));
    const run2 = checkConfig(lines);
    expectBounded(run2);
    expect(run2.stderr).toContain(`${lines}:129:1: error: blocks nested more than 128 deep; what is inside this one is not read`);
  }, 600_000);

  it('include of every file three levels from the root', () => {
    const file = write('root.conf', 'include /*/*/*\n');
    const run = checkConfig(file);
    expectBounded(run);
    expect(run.stderr).toMatch(/: error: /);
  }, 600_000);

  it('an include matching 120,000 files', () => {
    const many = path.join(dir, 'many');
    fs.mkdirSync(many, { recursive: true });
    for (let i = 0; i < 120_000; i++) fs.writeFileSync(path.join(many, `f${i}.conf`), '');
    const file = write('many.conf', 'include many/*.conf\n');
    const run = checkConfig(file);
    expectBounded(run);
    expect(run.stderr).toContain(`${file}:1:1: error: includes read more than 100,000 files; the rest are not read`);
  }, 600_000);

  it('nested ~SEQ and doubling multi-line macros expanding to a billion lines', () => {
    const seq = write('seq.conf', '~SEQ(a, 1000) ~SEQ(b, 1000) ~SEQ(c, 1000) virtual_ipaddress_x $a $b $c\n');
    const run = checkConfig(seq);
    expectBounded(run);
    expect(run.stderr).toContain(`${seq}:1:43: error: more than 800,000 statements; the rest is not read`);
    // lines a conditional drops: nothing but the expansion itself is counted
    const quiet = write('seq-quiet.conf', '~SEQ(a, 1000) ~SEQ(b, 1000) ~SEQ(c, 1000) @other $a $b $c\n');
    const run2 = checkConfig(quiet);
    expectBounded(run2);
    // at whichever ~SEQ's value went past the bound
    expect(run2.stderr).toMatch(new RegExp(`^${quiet}:1:(1|15|29): error: expansions produce more than 2,000,000 lines; stopped expanding$`, 'm'));
    const lines = ['$L0=@other x \\', '@other y'];
    for (let k = 1; k <= 30; k++) lines.push(`$L${k}=$L${k - 1} \\`, `$L${k - 1}`);
    const doubling = write('doubling.conf', `${lines.join('\n')}\n$L30\n`);
    const run3 = checkConfig(doubling);
    expectBounded(run3);
    expect(run3.stderr).toContain(`${doubling}:63:1: error: expansions produce more than 2,000,000 lines; stopped expanding`);
  }, 600_000);

  it('a word of 11 MB, plain, quoted, and in a file with macros', () => {
    const word = 'a'.repeat(11_000_000);
    for (const [name, text, line] of [
      ['token.conf', `global_defs {\n  router_id ${word}\n}\n`, 2],
      ['token-quoted.conf', `global_defs {\n  router_id "${word}"\n}\n`, 2],
      ['token-macro.conf', `$ID=r1\nglobal_defs {\n  router_id $ID\n  smtp_helo_name ${word}\n}\n`, 4],
    ] as const) {
      const file = write(name, text);
      const run = checkConfig(file);
      expectBounded(run);
      expect(run.stderr).toContain(`${file}:${line}:1: error: line longer than 64 KiB; it is not read`);
    }
  }, 600_000);

  it('include chains: 1,000 deep parses, 2,000 deep, a self-include and a loop of two are located errors', () => {
    const chain = (name: string, n: number) => {
      for (let i = 0; i < n; i++) write(`${name}/c${i}.conf`, i + 1 < n ? `include c${i + 1}.conf\n` : 'global_defs {\n}\n');
      return path.join(dir, name, 'c0.conf');
    };
    expectBounded(checkConfig(chain('chain1000', 1000)), 0);
    const deep = checkConfig(chain('chain2000', 2000));
    expectBounded(deep);
    expect(deep.stderr).toContain(`${path.join(dir, 'chain2000')}/c1023.conf:1:1: error: includes nested more than 1,024 deep`);
    const self = write('self.conf', 'include self.conf\n');
    const run = checkConfig(self);
    expectBounded(run);
    expect(run.stderr).toContain(`${self}:1:1: error: include cycle:`);
    const loopB = write('loop-b.conf', 'include loop-a.conf\n');
    const loopA = write('loop-a.conf', 'include loop-b.conf\n');
    const loop = checkConfig(loopA);
    expectBounded(loop);
    expect(loop.stderr).toContain(`${loopB}:1:1: error: include cycle:`);
  }, 600_000);

  it('a valid config followed by 1,000,000 junk lines', () => {
    const valid = 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 1\n  priority 100\n  virtual_ipaddress {\n    10.9.9.9/32\n  }\n}\n';
    const file = write('junk.conf', valid + Array.from({ length: 1_000_000 }, (_, i) => `junk${i} x y\n`).join(''));
    const run = checkConfig(file);
    expectBounded(run);
    expect(run.stderr).toContain(`${file}:9:1: error: unknown keyword \`junk0\` in the top level`);
    // the config's 6 statements, then junk lines to the 800,001st; where reading stopped is
    // listed past the cap too
    expect(run.stderr).toContain(`${file}:800003:1: error: more than 800,000 statements; the rest is not read`);
    expect(run.stderr).toContain(`${file}:1009:1: error: ... and 798,994 more errors, the first here, not listed (only the first 1,000 are)`);
    expect(run.stderr).toContain(`${file}: 799995 errors, configuration not usable`);
  }, 600_000);
});
