import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseArgs } from './options.js';

const opts = (...argv: string[]) => {
  const r = parseArgs(argv);
  if (!r.ok) throw new Error(r.error);
  return r.options;
};

describe('parseArgs', () => {
  it('takes --status-listen with an optional address, loopback by default', () => {
    expect(opts().statusListen).toBeNull();
    expect(opts('--status-listen').statusListen).toBe('127.0.0.1:9650');
    expect(opts('--status-listen=9100').statusListen).toBe('127.0.0.1:9100');
    expect(opts('--status-listen=0.0.0.0:9100').statusListen).toBe('0.0.0.0:9100');
    expect(opts('--status-listen=[::1]:9100').statusListen).toBe('[::1]:9100');
    expect(parseArgs(['--status-listen=host:99999'])).toMatchObject({ ok: false });
  });
  it('takes --child-start-timeout in whole seconds', () => {
    expect(opts().childStartTimeoutMs).toBeNull();
    expect(opts('--child-start-timeout=90').childStartTimeoutMs).toBe(90_000);
    expect(opts('--child-start-timeout', '600').childStartTimeoutMs).toBe(600_000);
    for (const bad of ['0', '1.5', 'x', '3601']) expect(parseArgs([`--child-start-timeout=${bad}`])).toMatchObject({ ok: false });
  });
  it('takes --plan with the file and pid file it names', () => {
    expect(opts().plan).toBe(false);
    expect(opts('--plan', '-f', 'new.conf', '-p', '/run/kt.pid')).toMatchObject({ plan: true, useFile: 'new.conf', pidFile: '/run/kt.pid' });
  });
  it('defaults to keepalived paths', () => {
    expect(opts()).toMatchObject({ useFile: DEFAULT_CONFIG, pidFile: '/run/keepalived.pid', configTest: false, dumpConf: false });
  });
  it('takes values attached, separate, and after =', () => {
    expect(opts('-f', 'a.conf').useFile).toBe('a.conf');
    expect(opts('-fb.conf').useFile).toBe('b.conf');
    expect(opts('--use-file=c.conf').useFile).toBe('c.conf');
    expect(opts('--use-file', 'd.conf').useFile).toBe('d.conf');
    expect(opts('-p', '/x.pid', '-r/y.pid', '--checkers_pid=/z.pid')).toMatchObject({ pidFile: '/x.pid', vrrpPidFile: '/y.pid', checkersPidFile: '/z.pid' });
  });
  it('clusters short flags and stops a cluster at a value', () => {
    expect(opts('-lnDd')).toMatchObject({ logConsole: true, dontFork: true, logDetail: true, dumpConf: true });
    expect(opts('-lif1')).toMatchObject({ logConsole: true, configId: 'f1' });
  });
  it('takes -t with an optional attached log file only', () => {
    expect(opts('-t', '-f', 'x')).toMatchObject({ configTest: true, configTestLog: null, useFile: 'x' });
    expect(opts('--config-test=/tmp/log')).toMatchObject({ configTest: true, configTestLog: '/tmp/log' });
  });
  it('maps every keepalived flag', () => {
    expect(opts('-P', '-C', '-G', '-V', '-I', '-R', '-X', '-e', '-s', 'ns1', '-u', '022', '-S', 'local3', '--signum=RELOAD')).toMatchObject({
      vrrpOnly: true,
      checkOnly: true,
      noSyslog: true,
      dontReleaseVrrp: true,
      dontReleaseIpvs: true,
      dontRespawn: true,
      releaseVips: true,
      allConfig: true,
      namespace: 'ns1',
      umask: 0o22,
      logFacility: '3',
      signum: 'RELOAD',
    });
    expect(opts('-v').version).toBe(true);
    expect(opts('--help').help).toBe(true);
    expect(opts('--keywords').keywords).toBe(true);
  });
  it('gives genhash the rest of the line', () => {
    expect(opts('-T', '-s', '1.2.3.4', '-p', '80').genhash).toEqual(['-s', '1.2.3.4', '-p', '80']);
  });
  it('accepts unimplemented keepalived options with a warning', () => {
    const o = opts('-x', '-B', '-b', '/run/bfd.pid', '-m');
    expect(o.warnings).toHaveLength(4);
    expect(o.warnings[0]).toMatch(/-x\/--snmp .*not implement/);
  });
  it('rejects unknown options and missing values', () => {
    expect(parseArgs(['-Z'])).toEqual({ ok: false, error: 'invalid option `-Z`' });
    expect(parseArgs(['--nope'])).toEqual({ ok: false, error: 'unrecognized option `--nope`' });
    expect(parseArgs(['-f'])).toEqual({ ok: false, error: 'option `-f` needs a value' });
    expect(parseArgs(['-S', 'local9'])).toMatchObject({ ok: false });
    expect(parseArgs(['--dump-conf=1'])).toMatchObject({ ok: false });
  });
});
