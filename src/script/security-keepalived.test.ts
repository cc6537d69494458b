// The vetting rules against keepalived 2.2.7 itself: the same files, permissions and links in
// a temporary directory, each the script of a vrrp_script run as root under
// enable_script_security; keepalived's -t says which it disables ("due to insecure", "since
// not found/accessible") and ours must disable the same ones for the same reason.
// (-t can only be asked about root scripts: keepalived -t kills itself after vetting a
// script as another user, so those rules are covered in security.test.ts.)
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { scriptDiagnostics } from './diagnostics.js';

const KEEPALIVED = '/usr/sbin/keepalived';
const why = !existsSync(KEEPALIVED) ? `${KEEPALIVED} is not installed` : process.geteuid?.() !== 0 ? 'needs root (chown)' : null;
if (why) console.warn(`security-keepalived.test: comparison with keepalived skipped: ${why}`);

const NOBODY = 65534;
const dir = why ? '' : mkdtempSync('/tmp/kt-script-vet-');
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** name -> script path; each builds its own corner of `dir`. */
function fixtures(): Record<string, string> {
  const file = (p: string, mode = 0o755) => {
    writeFileSync(p, '#!/bin/sh\nexit 0\n');
    chmodSync(p, mode);
    return p;
  };
  const sub = (name: string, mode = 0o755) => {
    const d = join(dir, name);
    mkdirSync(d);
    chmodSync(d, mode);
    return d;
  };
  const safe = sub('safe');
  const open = sub('open', 0o777);
  const sticky = sub('sticky', 0o1777);
  const groupOpen = sub('group-open', 0o775);
  chownSync(groupOpen, 0, NOBODY);
  const rootGroupOpen = sub('root-group-open', 0o775);
  const foreignDir = sub('foreign-dir');
  chownSync(foreignDir, NOBODY, 0);
  const foreign = file(join(safe, 'foreign.sh'));
  chownSync(foreign, NOBODY, 0);
  const groupFile = file(join(safe, 'group-file.sh'), 0o775);
  chownSync(groupFile, 0, NOBODY);
  const target = file(join(safe, 'real.sh'));
  symlinkSync('real.sh', join(safe, 'beside.sh'));
  symlinkSync('real.sh', join(safe, 'beside-foreign.sh'));
  lchownSync(join(safe, 'beside-foreign.sh'), NOBODY, NOBODY);
  symlinkSync('/usr/bin/true', join(open, 'to-true'));
  symlinkSync(file(join(open, 'in-open.sh')), join(safe, 'to-open.sh'));
  return {
    plain: file(join(safe, 'plain.sh')),
    world_writable: file(join(safe, 'ww.sh'), 0o777),
    group_writable_nonroot: groupFile,
    group_writable_root: file(join(safe, 'gw-root.sh'), 0o775),
    owned_by_nobody: foreign,
    in_open_dir: file(join(open, 'x.sh')),
    in_sticky_dir: file(join(sticky, 'x.sh')),
    in_group_open_dir: file(join(groupOpen, 'x.sh')),
    in_root_group_open_dir: file(join(rootGroupOpen, 'x.sh')),
    in_foreign_dir: file(join(foreignDir, 'x.sh')),
    link_beside_target: join(safe, 'beside.sh'),
    foreign_link_beside_target: join(safe, 'beside-foreign.sh'),
    link_in_open_dir_to_safe: join(open, 'to-true'),
    safe_link_into_open_dir: join(safe, 'to-open.sh'),
    dotdot_past_open_dir: `${open}/../safe/plain.sh`,
    missing: join(safe, 'missing.sh'),
    not_executable: file(join(safe, 'rw.sh'), 0o644),
    a_directory: safe,
    bare_name: 'true',
    real_target: target,
  };
}

describe.skipIf(why)('vetting compared with keepalived 2.2.7 -t', () => {
  it('disables the same scripts for the same reasons', () => {
    const scripts = fixtures();
    const names = Object.keys(scripts);
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(
      conf,
      [
        'global_defs {',
        '  enable_script_security',
        '  script_user root',
        '  dynamic_interfaces',
        '}',
        ...names.flatMap((n) => [`vrrp_script ${n} {`, `  script "${scripts[n]}"`, '}']),
        'vrrp_instance VI_1 {',
        '  interface kt-vet-none0',
        '  virtual_router_id 51',
        '  priority 100',
        '  virtual_ipaddress {',
        '    10.255.0.1/32',
        '  }',
        '  track_script {',
        ...names.map((n) => `    ${n}`),
        '  }',
        '}',
      ].join('\n') + '\n',
    );

    const ka = spawnSync(KEEPALIVED, ['-t', '-f', conf], { encoding: 'utf8' });
    const said = `${ka.stdout}${ka.stderr}`;
    const theirs = Object.fromEntries(
      names.map((n) => [
        n,
        said.includes(`Disabling track script ${n} due to insecure`)
          ? 'insecure'
          : said.includes(`Disabling track script ${n} since not found/accessible`)
            ? 'not-found'
            : 'runs or silently disabled',
      ]),
    );

    const { config, diagnostics } = loadConfig(conf);
    expect(config, diagnostics.map((d) => d.message).join('\n')).not.toBeNull();
    const ours = Object.fromEntries(
      names.map((n) => {
        const d = scriptDiagnostics(config!).find(
          (x) => x.message.startsWith(`Disabling vrrp_script ${n} `) || x.message.startsWith(`Disabling vrrp_script ${n}:`),
        );
        return [n, d?.code === 'script-insecure' ? 'insecure' : d?.code === 'script-unusable' ? 'not-found' : 'runs or silently disabled'];
      }),
    );
    expect(ours).toEqual(theirs);
    // the comparison means something only if keepalived really disabled some, for both reasons
    expect(Object.values(theirs).filter((v) => v === 'insecure').length).toBeGreaterThanOrEqual(8);
    expect(theirs.missing).toBe('not-found');
    // keepalived disables a non-executable script without a word at -t; ours says so (exit code unaffected)
    expect(scriptDiagnostics(config!).find((d) => d.message.startsWith('Disabling vrrp_script not_executable'))?.code).toBe('script-disabled');
    // keepalived's -t exit code: 5 once a tracked script is disabled
    expect(ka.status).toBe(5);
  });
});
