// A recorded load replays to exactly what was loaded, whatever the disk holds afterwards: the
// same model and diagnostics as loading the files directly (every sample, example and broken
// fixture), includes and their globs replayed from the recording, positions naming the
// original files, and an edit or removal on the disk after the recording changing nothing.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, loadConfig } from './index.js';
import { ConfigRecorder, loadRecorded, loadSnapshot, replayAccess, snapshotSize, type FileAccess } from './snapshot.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLES = '/usr/share/doc/keepalived/samples';
const dirFiles = (dir: string, keep: (f: string) => boolean) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter(keep)
        .sort()
        .map((f) => join(dir, f))
    : [];
const corpus = [
  ...dirFiles(SAMPLES, (f) => f.startsWith('keepalived.conf.')),
  ...dirFiles(join(ROOT, 'examples'), (f) => f.endsWith('.conf')),
  ...dirFiles(join(ROOT, 'test/fixtures/broken'), (f) => f.endsWith('.conf')),
];

const tmp = mkdtempSync(join(tmpdir(), 'kt-cfg-snapshot-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const opts = { configId: 'testhost', hostname: 'testhost', tolerant: true };
const lines = (r: { diagnostics: Parameters<typeof formatDiagnostic>[0][] }) => r.diagnostics.map(formatDiagnostic);

const instance = (prio: number, vips: string[]) =>
  [
    'vrrp_instance VI_1 {',
    '  interface eth0',
    '  virtual_router_id 51',
    `  priority ${prio}`,
    '  virtual_ipaddress {',
    ...vips.map((v) => `    ${v}`),
    '  }',
    '}',
    '',
  ].join('\n');

describe('config snapshot: record and replay', () => {
  it.each(corpus.map((f) => [f.slice(ROOT.length + 1).replace(SAMPLES, 'samples'), f]))('%s replays to what loading it gives', (_name, file) => {
    const direct = loadConfig(file, opts);
    const { result, snapshot } = loadRecorded(file, 'testhost', { hostname: 'testhost', tolerant: true });
    const replayed = loadSnapshot(snapshot, { hostname: 'testhost', tolerant: true });
    expect(lines(result)).toEqual(lines(direct));
    expect(result.config).toEqual(direct.config);
    expect(lines(replayed)).toEqual(lines(direct));
    expect(replayed.config).toEqual(direct.config);
  });

  it('replays includes and their globs from the recording, and the disk changing afterwards changes nothing', () => {
    const dir = join(tmp, 'inc');
    mkdirSync(join(dir, 'conf.d'), { recursive: true });
    const main = join(dir, 'keepalived.conf');
    writeFileSync(main, 'global_defs {\n  router_id r1\n}\ninclude conf.d/*.conf\n');
    writeFileSync(join(dir, 'conf.d', 'vi1.conf'), instance(200, ['10.0.0.1/24']));
    const { result, snapshot } = loadRecorded(main, null, { hostname: 'h' });
    expect(result.config?.vrrpInstances[0]?.priority).toBe(200);
    expect(snapshot.files.map((f) => f.path)).toEqual([main, join(dir, 'conf.d', 'vi1.conf')]);
    expect(snapshot.globs).toEqual([{ cwd: dir, pattern: 'conf.d/*.conf', matches: ['conf.d/vi1.conf'] }]);
    expect(snapshotSize(snapshot)).toBeGreaterThan(0);

    // a refused edit, a new file the glob would now match, the main file gone
    writeFileSync(join(dir, 'conf.d', 'vi1.conf'), instance(50, ['10.0.0.1/24']) + '}\n');
    writeFileSync(join(dir, 'conf.d', 'vi2.conf'), instance(10, ['10.0.0.2/24']).replace('VI_1', 'VI_2'));
    rmSync(main);
    const replayed = loadSnapshot(snapshot, { hostname: 'h' });
    expect(replayed.diagnostics).toEqual(result.diagnostics);
    expect(replayed.config).toEqual(result.config);
  });

  it('positions in a replay name the original files', () => {
    const dir = join(tmp, 'pos');
    mkdirSync(dir, { recursive: true });
    const main = join(dir, 'keepalived.conf');
    writeFileSync(main, 'include part.conf\n');
    writeFileSync(join(dir, 'part.conf'), instance(100, ['10.0.0.1/24']).replace('  priority 100', '  priorty 100'));
    const { snapshot } = loadRecorded(main, null, { tolerant: true });
    rmSync(dir, { recursive: true });
    const replayed = loadSnapshot(snapshot, { tolerant: true });
    expect(replayed.config).not.toBeNull();
    expect(lines(replayed)).toEqual([`${join(dir, 'part.conf')}:4:3: error: unknown keyword \`priorty\` in vrrp_instance; did you mean \`priority\`?`]);
    expect(replayed.diagnostics[0]?.ignored).toBe(true);
  });

  it('reads each file once: a file included twice is the version first read, in the load and in the replay', () => {
    const reads: string[] = [];
    let version = 0;
    const files: Record<string, () => string> = {
      '/c/main.conf': () => 'include /c/a.conf\ninclude /c/a.conf\n',
      // a file that changes between two reads of it
      '/c/a.conf': () => `! version ${++version}\n`,
    };
    const fake: FileAccess = {
      readFile: (p) => {
        reads.push(p);
        const f = files[p];
        if (!f) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
        return f();
      },
      glob: (pattern) => (files[pattern] ? [pattern] : []),
    };
    const recorder = new ConfigRecorder(fake);
    expect(recorder.readFile('/c/a.conf', 1 << 20)).toBe('! version 1\n');
    expect(recorder.readFile('/c/a.conf', 1 << 20)).toBe('! version 1\n');
    expect(reads).toEqual(['/c/a.conf']);
    const replay = replayAccess(recorder.snapshot('/c/a.conf', null));
    expect(replay.readFile('/c/a.conf', 1 << 20)).toBe('! version 1\n');
  });

  it('replays a read that failed as the same failure, and refuses what was never read', () => {
    const fake: FileAccess = {
      readFile: () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
      glob: () => {
        throw new Error('bad pattern');
      },
    };
    const recorder = new ConfigRecorder(fake);
    expect(() => recorder.readFile('/x.conf', 1 << 20)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => recorder.glob('[', '/')).toThrow('bad pattern');
    const replay = replayAccess(recorder.snapshot('/x.conf', null));
    expect(() => replay.readFile('/x.conf', 1 << 20)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => replay.glob('[', '/')).toThrow('bad pattern');
    expect(() => replay.readFile('/y.conf', 1 << 20)).toThrow(/not in the accepted configuration/);
    expect(() => replay.glob('*.conf', '/')).toThrow(/not in the accepted configuration/);
  });

  it('a missing main file is refused as loadConfig refuses it', () => {
    const missing = join(tmp, 'nope.conf');
    const { result } = loadRecorded(missing, null);
    expect(lines(result)).toEqual(lines(loadConfig(missing)));
  });

  it('keeps the config id it was loaded for: @ID lines replay the same way', () => {
    const dir = join(tmp, 'id');
    mkdirSync(dir, { recursive: true });
    const main = join(dir, 'keepalived.conf');
    writeFileSync(main, `@r1 ${instance(200, ['10.0.0.1/24']).split('\n').join('\n@r1 ')}\n@r2 vrrp_instance BAD {\n`);
    const { result, snapshot } = loadRecorded(main, 'r1');
    expect(snapshot.configId).toBe('r1');
    expect(result.config?.vrrpInstances.map((i) => i.priority)).toEqual([200]);
    expect(loadSnapshot(snapshot).config).toEqual(result.config);
  });
});
