// chevrotain is loaded only for the lines the scanner hands it: a config whose only
// unusual lines are closed quotes (scripts, notify commands) never loads it. Its own file:
// the module cache must not hold chevrotain from another test.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { lex, lexWithChevrotainOnly, Tok } from './lexer.js';

const chevrotainLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('/chevrotain/'));
const images = (text: string, t: ReturnType<typeof lex>) => Array.from({ length: t.count }, (_, i) => [t.kind[i], text.slice(t.start[i], t.end[i])]);

describe('quoted words without chevrotain', () => {
  it('lexes closed quotes itself, then loads chevrotain for an escape', () => {
    const text = `vrrp_script chk {\n  script "/usr/bin/killall -0 haproxy # {x}"\n  user 'nobody'\n  x=a"b c"d\n}\n`;
    const t = lex(text);
    expect(chevrotainLoaded()).toBe(false);
    expect(images(text, t)).toEqual([
      [Tok.PlainWord, 'vrrp_script'],
      [Tok.PlainWord, 'chk'],
      [Tok.LBrace, '{'],
      [Tok.Newline, '\n'],
      [Tok.PlainWord, 'script'],
      [Tok.Quoted, '"/usr/bin/killall -0 haproxy # {x}"'],
      [Tok.Newline, '\n'],
      [Tok.PlainWord, 'user'],
      [Tok.Quoted, "'nobody'"],
      [Tok.Newline, '\n'],
      [Tok.Word, 'x=a"b c"d'],
      [Tok.Newline, '\n'],
      [Tok.RBrace, '}'],
      [Tok.Newline, '\n'],
    ]);
    lex('script "a\\"b"\n');
    expect(chevrotainLoaded()).toBe(true);
    expect(images(text, t)).toEqual(images(text, lexWithChevrotainOnly(text)));
  });
});
