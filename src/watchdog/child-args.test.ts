import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, parseChildArgs } from './child-args.js';

describe('child arguments (both children)', () => {
  it('reads every option, long and short', () => {
    expect(
      parseChildArgs('vrrp', [
        '--config',
        '/a.conf',
        '--config-id',
        'lb1',
        '--config-from-parent',
        '--dont-release-vrrp',
        '--log-console',
        '--log-detail',
        '--log-json',
        '--no-syslog',
        '--log-facility',
        '2',
        '--namespace',
        'blue',
        '--dump-conf',
        '--metrics',
      ]),
    ).toEqual({
      config: '/a.conf',
      configId: 'lb1',
      configFromParent: true,
      dontRelease: true,
      logConsole: true,
      logDetail: true,
      logJson: true,
      noSyslog: true,
      logFacility: '2',
      namespace: 'blue',
      dumpConf: true,
      metrics: true,
      ownedState: null,
    });
    expect(parseChildArgs('vrrp', ['-f', '/b.conf', '-V', '-i', 'x', '-l', '-D', '-G', '-S', 'user', '-d'])).toMatchObject({
      config: '/b.conf',
      dontRelease: true,
      configId: 'x',
      logConsole: true,
      logDetail: true,
      noSyslog: true,
      logFacility: 'user',
      dumpConf: true,
    });
    expect(parseChildArgs('checker', ['-I', '--owned-state', '/run/owned.json'])).toMatchObject({ dontRelease: true, ownedState: '/run/owned.json' });
    expect(parseChildArgs('checker', [])).toMatchObject({
      config: DEFAULT_CONFIG_PATH,
      configFromParent: false,
      dontRelease: false,
      metrics: false,
      ownedState: null,
    });
  });

  it('takes --flag=value as --flag value, in both children, and keeps an = inside the value', () => {
    for (const role of ['vrrp', 'checker'] as const) {
      expect(parseChildArgs(role, ['--config=/etc/k=1.conf', '--config-id=lb2', '--log-facility=3', '--namespace=red'])).toMatchObject({
        config: '/etc/k=1.conf',
        configId: 'lb2',
        logFacility: '3',
        namespace: 'red',
      });
    }
    expect(parseChildArgs('checker', ['--owned-state=/tmp/o.json']).ownedState).toBe('/tmp/o.json');
  });

  it("accepts only the child's own release option and --owned-state only in the checker", () => {
    expect(() => parseChildArgs('checker', ['--dont-release-vrrp'])).toThrow('unknown argument --dont-release-vrrp');
    expect(() => parseChildArgs('vrrp', ['-I'])).toThrow('unknown argument -I');
    expect(() => parseChildArgs('vrrp', ['--owned-state', '/x'])).toThrow('unknown argument --owned-state');
  });

  it('rejects unknown options, missing values and a value given to a flag', () => {
    expect(() => parseChildArgs('vrrp', ['--bogus'])).toThrow('unknown argument --bogus');
    expect(() => parseChildArgs('checker', ['--bogus=1'])).toThrow('unknown argument --bogus=1');
    expect(() => parseChildArgs('vrrp', ['--config'])).toThrow('--config needs a value');
    expect(() => parseChildArgs('checker', ['--metrics=yes'])).toThrow('--metrics takes no value');
  });
});
