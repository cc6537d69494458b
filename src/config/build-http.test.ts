// HTTP_GET / SSL_GET keywords as keepalived 2.2.7's check_http.c and check_parser.c read them.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from './ast.js';
import { buildAndValidate } from './build-pipeline.js';
import { splitStatements } from './build-testkit.js';
import type { HttpCheck, KeepalivedConfig } from './model.js';

function load(text: string) {
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null);
  return { config: r.config as KeepalivedConfig, msgs: r.diagnostics.map(formatDiagnostic) };
}

const vs = (rs: string, extra = '') => `virtual_server 10.0.0.1 80 {\n protocol TCP\n${extra}real_server 10.0.1.1 80 {\n${rs}\n}\n}`;
const http = (body: string, type = 'HTTP_GET') => vs(`${type} {\n${body}\n}`);
const checkOf = (c: KeepalivedConfig) => c.virtualServers[0]!.realServers[0]!.checkers[0] as HttpCheck;

describe('url regex', () => {
  it('reads the pattern through keepalived escape decoding, with its modifiers', () => {
    const { config, msgs } = load(
      http(
        String.raw`url {
path /health
regex "^status:\\s+OK\n"
regex_no_match
regex_options caseless multiline
regex_min_offset 4
regex_max_offset 100
}`,
      ),
    );
    expect(msgs).toEqual([]);
    expect(checkOf(config).urls[0]!.regex).toMatchObject({
      pattern: '^status:\\s+OK\n',
      noMatch: true,
      options: ['caseless', 'multiline'],
      minOffset: 4,
      maxOffset: 100,
    });
  });

  it('drops modifiers written without a regex, and crossed offsets, with a warning each (as keepalived)', () => {
    const a = load(http('url {\npath /\nregex_no_match\n}'));
    expect(checkOf(a.config).urls[0]!.regex).toBeNull();
    expect(a.msgs).toEqual([expect.stringMatching(/^t\.conf:7:1: warning: regex options, offsets or regex_no_match without a `regex`/)]);
    const b = load(http('url {\npath /\nregex ok\nregex_min_offset 10\nregex_max_offset 5\n}'));
    expect(checkOf(b.config).urls[0]!.regex).toMatchObject({ minOffset: 0, maxOffset: null });
    expect(b.msgs).toEqual([expect.stringContaining('t.conf:7:1: warning: regex_min_offset 10 is beyond regex_max_offset 5')]);
  });

  it('warns at the statement when RegExp cannot run the pattern or an option, and for option words keepalived skips', () => {
    const a = load(http('url {\npath /\nregex "(?>a+)b"\n}'));
    expect(checkOf(a.config).urls[0]!.regex).toMatchObject({ pattern: '(?>a+)b' }); // kept for the dump; the probe skips it
    expect(a.msgs).toEqual([expect.stringMatching(/^t\.conf:7:1: warning: this PCRE2 pattern cannot run as a JavaScript RegExp \(an atomic group/)]);
    const b = load(http('url {\npath /\nregex ok\nregex_options ucp bogus\nregex_stack 100 1000\n}'));
    expect(b.msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^t\.conf:8:19: warning: `bogus` is not a regex option keepalived knows/),
        expect.stringMatching(/^t\.conf:7:1: warning: regex option ucp: /),
        expect.stringMatching(/^t\.conf:9:1: warning: .*regex_stack/),
      ]),
    );
    expect(checkOf(b.config).urls[0]!.regex).toMatchObject({ options: ['ucp'] });
  });
});

describe('virtualhost, http_protocol, the SSL block', () => {
  it("models the real server's virtualhost and http_protocol 1.0c as 1.0C", () => {
    const { config, msgs } = load(vs('virtualhost rs.example\nHTTP_GET {\nhttp_protocol 1.0c\nurl {\npath /\n}\n}'));
    expect(msgs).toEqual([]);
    expect(config.virtualServers[0]!.realServers[0]!.virtualhost).toBe('rs.example');
    expect(checkOf(config).httpProtocol).toBe('1.0C');
  });

  it('reads the SSL block; a second one replaces the first with a warning', () => {
    const { config, msgs } = load(
      `SSL {\npassword pw\nca /etc/ca.pem\ncertificate /etc/c.pem\nkey /etc/k.pem\n}\nSSL {\ncertificate /etc/d.pem\n}\n${http('url {\npath /\n}', 'SSL_GET')}`,
    );
    expect(config.ssl).toMatchObject({ password: null, ca: null, certificate: '/etc/d.pem', key: null, pos: { line: 7 } });
    expect(msgs).toEqual([expect.stringContaining('t.conf:7:1: warning: a second `SSL` block replaces the first')]);
  });
});
