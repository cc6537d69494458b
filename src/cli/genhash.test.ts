import { describe, expect, it } from 'vitest';
import { parseGenhashArgs } from './genhash.js';

describe("genhash arguments (keepalived genhash's)", () => {
  it('reads short and long forms', () => {
    expect(parseGenhashArgs(['-S', '-s', '10.0.0.1', '-p', '8443', '-u', '/x', '-V', 'www.example.com', '-I', '-t', '3'])).toEqual({
      ssl: true,
      sni: true,
      server: '10.0.0.1',
      port: 8443,
      url: '/x',
      virtualhost: 'www.example.com',
      verbose: false,
      help: false,
      timeoutS: 3,
      protocol: '1.0',
    });
    expect(parseGenhashArgs(['--server=::1', '--url', '/', '--protocol', '1.0c'])).toMatchObject({ server: '::1', url: '/', port: null, protocol: '1.0C' });
    expect(parseGenhashArgs(['-s', 'h', '-u', '/', '-P', '2.0'])).toBe('invalid HTTP protocol version `2.0`');
  });
  it('says what is missing or wrong', () => {
    expect(parseGenhashArgs(['-s', '10.0.0.1'])).toBe('a server address (-s) and a url (-u) are required');
    expect(parseGenhashArgs(['-s', 'h', '-u', '/', '-p', '70000'])).toBe('invalid port `70000`');
    expect(parseGenhashArgs(['-q'])).toBe('unrecognized argument `-q`');
    expect(parseGenhashArgs(['-h'])).toMatchObject({ help: true });
  });
});
