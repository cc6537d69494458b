import { describe, expect, it } from 'vitest';
import { PCRE2_OPTIONS, optionHasNoVisibleEffect, translatePcre, unescapeRegexWord } from './pcre.js';

/** Whether PCRE2 `pattern` with `options` (as translated) finds a match in `subject`. */
function matches(pattern: string, subject: string, options: string[] = []): boolean {
  const t = translatePcre(pattern, options);
  if (!t.ok) throw new Error(t.reason);
  return new RegExp(t.source, t.flags).test(subject);
}

describe('PCRE2 defaults that differ from RegExp', () => {
  it('$ also matches before a final LF (not with dollar_endonly); multiline $ before any LF', () => {
    expect(matches('OK$', 'status OK\n')).toBe(true);
    expect(matches('OK$', 'status OK\n', ['dollar_endonly'])).toBe(false);
    expect(matches('OK$', 'OK\nmore')).toBe(false);
    expect(matches('OK$', 'OK\nmore', ['multiline'])).toBe(true);
    expect(matches('OK$', 'OK\r\nmore', ['multiline'])).toBe(false); // PCRE2's newline is LF
  });

  it('. stops only at LF (a CR is a character); dotall crosses LF', () => {
    expect(matches('a.b', 'a\rb')).toBe(true);
    expect(matches('a.b', 'a\nb')).toBe(false);
    expect(matches('a.b', 'a\nb', ['dotall'])).toBe(true);
  });

  it('^ is the subject start; multiline ^ after an LF but not after a final one', () => {
    expect(matches('^up', 'x\nup')).toBe(false);
    expect(matches('^up', 'x\nup', ['multiline'])).toBe(true);
    expect(matches('^$', 'x\n', ['multiline'])).toBe(false);
  });

  it('\\s is ASCII: a latin1 NBSP byte is no space', () => {
    expect(matches('a\\sb', 'a\tb')).toBe(true);
    expect(matches('a\\sb', 'a\u00a0b')).toBe(false);
  });

  it('a ] first in a class is a member (unless allow_empty_class)', () => {
    expect(matches('[]x]', ']')).toBe(true);
    expect(matches('x[]y', 'xy', ['allow_empty_class'])).toBe(false);
  });

  it('translates \\A \\z \\Z \\h \\R \\Q..\\E, POSIX classes and (?P<name>', () => {
    expect(matches('\\AOK', 'OK')).toBe(true);
    expect(matches('OK\\z', 'OK\n')).toBe(false);
    expect(matches('OK\\Z', 'OK\n')).toBe(true);
    expect(matches('a\\hb', 'a b')).toBe(true);
    expect(matches('a\\Rb', 'a\r\nb')).toBe(true);
    expect(matches('\\Q1+1=2\\E', 'is 1+1=2')).toBe(true);
    expect(matches('[[:digit:]]{3}', 'code 200')).toBe(true);
    expect(matches('(?P<s>up)(?P=s)', 'upup')).toBe(true);
  });

  it('options: caseless, extended, ungreedy, a leading (?i)', () => {
    expect(matches('healthy', 'HEALTHY', ['caseless'])).toBe(true);
    expect(matches('(?i)healthy', 'HEALTHY')).toBe(true);
    expect(matches('h e a l # comment\n thy', 'healthy', ['extended'])).toBe(true);
    const t = translatePcre('<b>.*</b>', ['ungreedy']);
    expect(t.ok && new RegExp(t.source).exec('<b>1</b><b>2</b>')![0]).toBe('<b>1</b>');
    const lazy = translatePcre('<b>.*?</b>', ['ungreedy']);
    expect(lazy.ok && new RegExp(lazy.source).exec('<b>1</b><b>2</b>')![0]).toBe('<b>1</b><b>2</b>');
  });

  it('utf reads characters, not bytes', () => {
    const t = translatePcre('caf.!', ['utf']);
    expect(t.ok && t.utf && t.flags).toBe('u');
  });
});

describe('what RegExp cannot do is said, never matched differently', () => {
  it.each([
    ['(?>a+)b', 'atomic group'],
    ['a++b', 'possessive'],
    ['(*FAIL)', 'verb'],
    ['a(?i)b', 'option setting inside'],
    ['(?R)', 'recursion'],
    ['\\Kx', '\\K'],
    ['[[:^alpha:]]', 'POSIX class'],
  ])('%s', (pattern, what) => {
    const t = translatePcre(pattern, []);
    expect(t.ok).toBe(false);
    expect(!t.ok && t.reason).toContain(what);
  });

  it('options with no RegExp equivalent are listed; the harmless ones are not', () => {
    const t = translatePcre('x', ['ucp', 'no_start_optimize', 'caseless']);
    expect(t.ok && t.unsupportedOptions.map((o) => o.split(':')[0])).toEqual(['ucp']);
    expect(optionHasNoVisibleEffect('no_start_optimize')).toBe(true);
    expect(PCRE2_OPTIONS).toHaveLength(24);
  });
});

describe("keepalived's escape decoding of the regex word", () => {
  it('turns control escapes into characters and any other escaped character into itself', () => {
    expect(unescapeRegexWord(String.raw`a\d\.b\n`)).toBe('ad.b\n');
    expect(unescapeRegexWord(String.raw`a\\d`)).toBe('a\\d'); // a PCRE2 \d takes two backslashes
    expect(unescapeRegexWord(String.raw`\x41\101\cA\b\"`)).toBe('AA\x01\b"');
    expect(unescapeRegexWord(String.raw`\x41B`)).toBe('\x1b'); // keepalived reads every hex digit into one byte
  });
});
