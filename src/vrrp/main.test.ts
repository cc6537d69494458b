import { describe, expect, it } from 'vitest';
import { parseChildArgs } from './main.js';

describe('VRRP child arguments', () => {
  it('long and short forms', () => {
    expect(parseChildArgs(['--config', '/a.conf', '--config-id', 'lb1', '--dont-release-vrrp', '--log-console', '--log-detail', '--log-json', '--no-syslog', '--log-facility', '2', '--metrics'])).toEqual({
      config: '/a.conf',
      configId: 'lb1',
      dontReleaseVrrp: true,
      logConsole: true,
      logDetail: true,
      logJson: true,
      noSyslog: true,
      logFacility: '2',
      namespace: null,
      dumpConf: false,
      metrics: true,
    });
    expect(parseChildArgs(['-f', '/b.conf', '-V'])).toMatchObject({ config: '/b.conf', dontReleaseVrrp: true, logConsole: false, metrics: false });
    expect(parseChildArgs([]).config).toBe('/etc/keepalived/keepalived.conf');
  });

  it('rejects unknown arguments and missing values', () => {
    expect(() => parseChildArgs(['--bogus'])).toThrow(/unknown argument --bogus/);
    expect(() => parseChildArgs(['--config'])).toThrow(/needs a value/);
  });
});
