// The front end's bounds (limits.ts), each crossed at its real value: a located error that
// names the limit, and what comes after it read as before where the bound allows. The
// full-size hostile files of issue 17 run through `-t` in test/config/pathological.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, type ParsedFile, type Statement } from './ast.js';
import { expandBraces, globFiles, GlobLimitError, segmentPattern } from './glob.js';
import { loadConfig } from './index.js';
import {
  MAX_BLOCK_DEPTH,
  MAX_BLOCK_WORDS,
  MAX_DIAGNOSTICS,
  MAX_EXPANDED_LINES,
  MAX_HELD_BYTES,
  MAX_INCLUDE_DEPTH,
  MAX_INCLUDE_FILES,
  MAX_LINE_BYTES,
  MAX_MACRO_BYTES,
  MAX_MACROS,
  MAX_STATEMENTS,
  MAX_WORDS,
} from './limits.js';
import { parseConfigFile, parseConfigText, type ParseOptions } from './parser.js';
import { FileTooLargeError, NotTextError, readTextFd, readTextFile } from './source.js';

/** Files held in memory; a pattern globs to itself when that file exists. */
function memoryFiles(files: Record<string, string>, glob?: ParseOptions['glob']): ParseOptions {
  return {
    configId: 'main',
    readFile: (p) => {
      const t = files[p];
      if (t === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return t;
    },
    glob: glob ?? ((pattern) => (files[pattern] === undefined ? [] : [pattern])),
  };
}

const parse = (text: string, extra: Record<string, string> = {}) => parseConfigText(text, 'k.conf', memoryFiles(extra));

function errors(r: ParsedFile): string[] {
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${formatDiagnostic(d)} [${d.code}]`);
}

function depth(list: Statement[]): number {
  let d = 0;
  // iterative: the point of these tests is that nothing recurses on hostile input
  const todo: [Statement[], number][] = [[list, 1]];
  while (todo.length) {
    const [l, n] = todo.pop()!;
    for (const st of l)
      if (st.block) {
        d = Math.max(d, n);
        todo.push([st.block, n + 1]);
      }
  }
  return d;
}

describe('nesting and size of blocks', () => {
  it(`reads blocks ${MAX_BLOCK_DEPTH} deep, and past that reports the first deeper { and reads on after its }`, () => {
    const n = MAX_BLOCK_DEPTH + 50;
    const r = parse('a {\n'.repeat(n) + '}\n'.repeat(n) + 'after 1\n');
    expect(errors(r)).toEqual([
      `k.conf:${MAX_BLOCK_DEPTH + 1}:3: error: blocks nested more than ${MAX_BLOCK_DEPTH} deep; what is inside this one is not read [block-depth]`,
    ]);
    expect(depth(r.statements)).toBe(MAX_BLOCK_DEPTH);
    expect(r.statements.map((s) => s.keyword.text)).toEqual(['a', 'after']);
  });

  it('bounds 5,000,000 braces (one line, then one a line) to a few errors', () => {
    const oneLine = parse('{'.repeat(5_000_000) + '\nafter 1\n');
    expect(errors(oneLine)).toEqual([
      `k.conf:1:1: error: line longer than 64 KiB; it is not read (keepalived reads at most 1,023 bytes of a line) [line-too-long]`,
    ]);
    const lines = parse('{\n'.repeat(5_000_000));
    expect(lines.diagnostics.length).toBeLessThanOrEqual(MAX_DIAGNOSTICS);
    expect(errors(lines)).toContain(
      `k.conf:${MAX_BLOCK_DEPTH + 1}:1: error: blocks nested more than ${MAX_BLOCK_DEPTH} deep; what is inside this one is not read [block-depth]`,
    );
    // the braces that were read are each still reported unclosed, at their own place
    expect(errors(lines).filter((e) => e.endsWith('[unclosed-brace]'))).toHaveLength(MAX_BLOCK_DEPTH);
  });

  it(`stops at statement ${MAX_STATEMENTS + 1}, there`, () => {
    const r = parse('x\n'.repeat(MAX_STATEMENTS + 10));
    expect(errors(r)).toEqual([`k.conf:${MAX_STATEMENTS + 1}:1: error: more than 800,000 statements; the rest is not read [statement-limit]`]);
  });

  it(`stops at word ${MAX_WORDS + 1}, and at word ${MAX_BLOCK_WORDS + 1} of one top-level statement`, () => {
    const line = 'w '.repeat(999) + 'w\n'; // 1,000 words a line
    const many = parse(`top${' x'.repeat(999)}\n`.repeat(MAX_WORDS / 1000 + 1));
    expect(errors(many)).toEqual([`k.conf:${MAX_WORDS / 1000 + 1}:1: error: more than 4,000,000 words; the rest is not read [word-limit]`]);
    const one = parse('vs 1 {\n' + line.repeat(MAX_BLOCK_WORDS / 1000) + '}\n');
    expect(errors(one)).toEqual([
      `k.conf:${MAX_BLOCK_WORDS / 1000 + 1}:1997: error: the statement 'vs' at k.conf:1 holds more than 1,000,000 words; the rest is not read [block-limit]`,
    ]);
  });
});

describe('long lines', () => {
  const long = (c: string) => c.repeat(MAX_LINE_BYTES + 1);
  const text = `a 1\nb ${long('x')}\nc "${long('y')}"\nd 2\n`;
  const expected = [2, 3].map(
    (l) => `k.conf:${l}:1: error: line longer than 64 KiB; it is not read (keepalived reads at most 1,023 bytes of a line) [line-too-long]`,
  );
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-limits-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('skips a line over 64 KiB, reported at its start, and reads the next', () => {
    const r = parse(text);
    expect(errors(r)).toEqual(expected);
    expect(r.statements.map((s) => s.keyword.text)).toEqual(['a', 'd']);
  });

  it('does the same in a file read as it is lexed, and in a file with macros, for a 10 MB word', () => {
    const big = `a 1\nb ${'x'.repeat(10_500_000)}\nc "${'y'.repeat(10_500_000)}"\nd 2\n`;
    const plain = path.join(dir, 'k.conf');
    fs.writeFileSync(plain, big);
    const fromFile = parseConfigFile(plain, { configId: 'main' });
    expect(errors(fromFile)).toEqual(expected.map((e) => e.replace('k.conf', plain)));
    expect(fromFile.statements.map((s) => s.keyword.text)).toEqual(['a', 'd']);
    fs.writeFileSync(plain, '$M=1\n' + big.replace('a 1', 'a $M'));
    const withMacro = parseConfigFile(plain, { configId: 'main' });
    expect(errors(withMacro)).toEqual([3, 4].map((l) => expected[0]!.replace('k.conf:2', `${plain}:${l}`)));
    expect(withMacro.statements.map((s) => [s.keyword.text, s.args[0]!.text])).toEqual([
      ['a', '1'],
      ['d', '2'],
    ]);
  });

  it('refuses a macro expansion that makes a line over 64 KiB', () => {
    const defs = ['$A0=' + 'a'.repeat(1000), ...Array.from({ length: 8 }, (_, k) => `$A${k + 1}=$A${k} $A${k}`)];
    const r = parse(`${defs.join('\n')}\nrouter_id $A8\nafter 1\n`);
    expect(errors(r)).toEqual([`k.conf:10:11: error: macro expansion makes a line longer than 65,536 bytes (recursive definition?) [macro-recursion]`]);
    expect(r.statements.map((s) => s.keyword.text)).toEqual(['after']);
  });
});

describe('expansions', () => {
  it(`stops multi-line macros doubling 30 times at ${MAX_EXPANDED_LINES} lines, at the line using them`, () => {
    // the macro's lines are dropped by a conditional: only the expansion is counted, no statement made
    const lines = ['$L0=@other x \\', '@other y'];
    for (let k = 1; k <= 30; k++) lines.push(`$L${k}=$L${k - 1} \\`, `$L${k - 1}`);
    const r = parse(`${lines.join('\n')}\n$L30\nafter 1\n`);
    expect(errors(r)).toEqual([`k.conf:${lines.length + 1}:1: error: expansions produce more than 2,000,000 lines; stopped expanding [expansion-limit]`]);
    expect(r.statements.map((s) => s.keyword.text)).toEqual(['after']);
  });

  it('refuses a multi-line macro used in its own lines, also through another one or a ~SEQ', () => {
    const viaSeq = parse('$M=a 1 \\\n~SEQ(i,2) ~SEQ(j,2) $M\n$M\nafter 1\n');
    expect(new Set(errors(viaSeq))).toEqual(
      new Set([`k.conf:3:1: error: multi-line macro 'M' is used in its own lines (recursive definition) [macro-recursion]`]),
    );
    expect(viaSeq.statements.map((s) => s.keyword.text)).toEqual(['a', 'after']);
    const mutual = parse('$M=a 1 \\\n$N\n$N=b 2 \\\n$M\n$M\n');
    expect(errors(mutual)).toEqual([`k.conf:5:1: error: multi-line macro 'M' is used in its own lines (recursive definition) [macro-recursion]`]);
    // used again after its lines are read is no recursion
    expect(errors(parse('$M=x 1 \\\ny 2\n~SEQ(i,3) $M\n'))).toEqual([]);
  });

  it('expands nested ~SEQ one value at a time and stops at the bound', () => {
    const r = parse('~SEQ(a, 3000) ~SEQ(b, 3000) @other $a $b\n~SEQ(c, 3000000) x\n~SEQ(d, 2) after $d\n');
    expect(errors(r)).toEqual([
      // at the inner ~SEQ, whose values went past the bound
      'k.conf:1:15: error: expansions produce more than 2,000,000 lines; stopped expanding [expansion-limit]',
      'k.conf:2:1: error: invalid ~SEQ(c, 3000000): 3,000,000 values is more than the 2,000,000 lines expansions may produce [seq-syntax]',
    ]);
  });

  it(`defines at most ${MAX_MACROS} macros, holding at most 64 MiB`, () => {
    // five are predefined (_INSTANCE, _PWD, ...)
    const many = parse(Array.from({ length: MAX_MACROS - 5 }, (_, i) => `$M${i}=${i}`).join('\n') + '\n$X=1\nx $X\n');
    expect(errors(many)).toEqual([
      `k.conf:${MAX_MACROS - 4}:1: error: more than 100,000 macros defined; 'X' is not [macro-limit]`,
      `k.conf:${MAX_MACROS - 3}:3: error: macro 'X' is not defined [macro-undefined]`,
    ]);
    const value = 'v'.repeat(MAX_LINE_BYTES - 10);
    const n = Math.ceil(MAX_MACRO_BYTES / value.length);
    const big = parse(Array.from({ length: n }, (_, i) => `$B${i}=${value}`).join('\n') + '\n');
    expect(errors(big)).toEqual([`k.conf:${n}:1: error: macro definitions hold more than 64 MiB of text; 'B${n - 1}' is not defined [macro-limit]`]);
  });
});

describe('includes', () => {
  const chain = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}.conf`, i + 1 < n ? `include c${i + 1}.conf\n` : 'last 1\n']));

  it('reads a chain of 1,000 files, each including the next, without recursion', () => {
    const files = chain(1000);
    const r = parseConfigText(files['c0.conf']!, 'c0.conf', memoryFiles(files));
    expect(errors(r)).toEqual([]);
    expect(r.statements.map((s) => s.keyword.text)).toEqual(['last']);
    expect(r.files).toHaveLength(1000);
  });

  it(`reports a chain deeper than ${MAX_INCLUDE_DEPTH} at the include that goes too deep`, () => {
    const files = chain(3000);
    const r = parseConfigText(files['c0.conf']!, 'c0.conf', memoryFiles(files));
    expect(errors(r)).toEqual([
      `c${MAX_INCLUDE_DEPTH - 1}.conf:1:1: error: includes nested more than 1,024 deep; 'c${MAX_INCLUDE_DEPTH}.conf' is not read [include-depth]`,
    ]);
  });

  it('reports a file including itself, at once', () => {
    const r = parse('include k.conf\nx 1\n', { 'k.conf': 'include k.conf\nx 1\n' });
    expect(errors(r)).toEqual(['k.conf:1:1: error: include cycle: k.conf -> k.conf [include-cycle]']);
  });

  it(`reads at most ${MAX_INCLUDE_FILES} files`, () => {
    const names = Array.from({ length: MAX_INCLUDE_FILES + 5 }, (_, i) => `f${i}.conf`);
    const files = Object.fromEntries(names.map((n) => [n, 'x 1\n']));
    const r = parseConfigText(
      'include *.conf\n',
      'k.conf',
      memoryFiles(files, () => names),
    );
    expect(errors(r)).toEqual(['k.conf:1:1: error: includes read more than 100,000 files; the rest are not read [include-limit]']);
    expect(r.statements).toHaveLength(MAX_INCLUDE_FILES);
  });

  it(`refuses a file that would make the text held at once more than ${MAX_HELD_BYTES / 1024 / 1024} MiB`, () => {
    const huge = 'x'.repeat(MAX_HELD_BYTES + 1);
    expect(errors(parse('include big.conf\nafter 1\n', { 'big.conf': huge }))).toEqual([
      "k.conf:1:1: error: included file 'big.conf' is not read: the files being read at once would hold more than 128 MiB [include-too-large]",
    ]);
    expect(errors(parseConfigFile('big.conf', memoryFiles({ 'big.conf': huge })))).toEqual([
      'big.conf:1:1: error: configuration file uses macros, includes, @ or ~ lines and is longer than 128 MiB, the most such text read at once [config-too-large]',
    ]);
  });

  it('refuses a binary file at its first NUL byte, however it is read', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-nul-'));
    try {
      const bin = path.join(dir, 'bin.conf');
      fs.writeFileSync(bin, 'ok 1\nab\0cd\n' + 'x'.repeat(1 << 20));
      const main = path.join(dir, 'k.conf');
      fs.writeFileSync(main, `include ${bin}\nafter 1\n`);
      const r = parseConfigFile(main, { configId: 'main' });
      expect(errors(r)).toEqual([`${bin}:2:3: error: not a text file (it holds a NUL byte); it is not read [not-text]`]);
      expect(r.statements.map((s) => s.keyword.text)).toEqual(['after']);
      expect(errors(parseConfigFile(bin, { configId: 'main' }))).toEqual([
        `${bin}:2:3: error: not a text file (it holds a NUL byte); it is not read [not-text]`,
      ]);
      // nothing past the bound is read, whatever the file's size says (a file in /proc says 0)
      expect(() => readTextFile(main, 10)).toThrow(FileTooLargeError);
      expect(() => readTextFile('/dev/zero', 1 << 30)).toThrow(NotTextError);
      // a large binary (a shared library an include pattern matched) is refused after its
      // first read, not read whole: most of it is still there to read from the same fd
      const lib = path.join(dir, 'lib.so');
      fs.writeFileSync(lib, Buffer.concat([Buffer.from('\x7fELF\0'), Buffer.alloc(16 << 20, 1)]));
      const fd = fs.openSync(lib, 'r');
      try {
        expect(() => readTextFd(fd, MAX_HELD_BYTES)).toThrow(NotTextError);
        let left = 0;
        for (let n; (n = fs.readSync(fd, Buffer.alloc(1 << 20))) > 0;) left += n;
        expect(left).toBeGreaterThan(14 << 20);
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('include patterns', () => {
  it('expands at most 1,024 brace alternatives, nested braces iteratively', () => {
    expect(expandBraces('{a,b}'.repeat(10))).toHaveLength(1024);
    expect(() => expandBraces('{a,b}'.repeat(11))).toThrow(new GlobLimitError('its {...} alternatives make more than 1,024 patterns'));
    expect(expandBraces('{'.repeat(20_000) + 'x' + '}'.repeat(20_000))).toHaveLength(1);
    expect(expandBraces(`${'{x}'.repeat(20_000)}{a,b}`)).toEqual(['{x}'.repeat(20_000) + 'a', '{x}'.repeat(20_000) + 'b']);
  });

  it('matches many * in time linear in the name', () => {
    const p = segmentPattern(`${'*a'.repeat(40)}*b`);
    expect(p.test('a'.repeat(255))).toBe(false);
    expect(p.test(`${'a'.repeat(254)}b`)).toBe(true);
    expect(segmentPattern('[z-a]x').test('bx')).toBe(false);
    expect(segmentPattern('[]a]x').test(']x')).toBe(true);
  });

  it('looks at a bounded number of directory entries, and skips programs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-glob-'));
    try {
      for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(dir, `f${i}.conf`), '');
      fs.chmodSync(path.join(dir, 'f7.conf'), 0o755);
      expect(globFiles('*.conf', dir)).toHaveLength(49);
      expect(globFiles('*.conf', dir)).not.toContain('f7.conf');
      expect(() => globFiles('*.conf', dir, { entries: 40 })).toThrow(
        new GlobLimitError('the include patterns would look at more than 1,000,000 directory entries'),
      );
      const r = parseConfigText('include {a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}\n', path.join(dir, 'k.conf'), { configId: 'main' });
      expect(errors(r)).toEqual([
        `${path.join(dir, 'k.conf')}:1:1: error: cannot expand include pattern '{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}': its {...} alternatives make more than 1,024 patterns [include-unreadable]`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('diagnostics', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-cap-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const valid = 'vrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 1\n  priority 100\n  virtual_ipaddress {\n    10.9.9.9/32\n  }\n}\n';

  it(`keeps the first ${MAX_DIAGNOSTICS} and says how many more there were, where the first of them is`, () => {
    const file = path.join(dir, 'junk.conf');
    fs.writeFileSync(file, valid + Array.from({ length: 5000 }, (_, i) => `junk${i} 1\n`).join('') + '}\n');
    const r = loadConfig(file, { hostname: 'h' });
    expect(r.config).toBeNull();
    expect(r.errorCount).toBe(5001);
    expect(r.diagnostics).toHaveLength(MAX_DIAGNOSTICS + 1);
    expect(formatDiagnostic(r.diagnostics[0]!)).toBe(`${file}:9:1: error: unknown keyword \`junk0\` in the top level`);
    expect(formatDiagnostic(r.diagnostics.at(-1)!)).toBe(
      `${file}:1009:1: error: ... and 4,001 more errors, the first here, not listed (only the first 1,000 are)`,
    );
  });

  it('still builds a tolerant load whose errors past the cap are all skippable, and not one with another', () => {
    const file = path.join(dir, 'tolerant.conf');
    const junk = Array.from({ length: 3000 }, (_, i) => `junk${i} 1\n`).join('');
    fs.writeFileSync(file, valid + junk);
    const r = loadConfig(file, { hostname: 'h', tolerant: true, hostInterfaces: null });
    expect(r.config?.vrrpInstances.map((i) => i.name)).toEqual(['VI_1']);
    expect(r.errorCount).toBe(3000);
    // the children start on a config whose every error is marked ignored, the count too
    expect(r.diagnostics.filter((d) => d.severity === 'error' && !d.ignored)).toEqual([]);
    expect(r.diagnostics.at(-1)!.message).toBe('... and 2,000 more errors, the first here, not listed (only the first 1,000 are)');
    // a missing word stops keepalived's daemon too
    fs.writeFileSync(file, valid + junk + 'global_defs {\n  router_id\n}\n');
    expect(loadConfig(file, { hostname: 'h', tolerant: true, hostInterfaces: null }).config).toBeNull();
  });

  it('reports a bug of ours where it was reading, in plain words', () => {
    const r = parseConfigText('a 1\nb 2\nc 3\n', 'k.conf', {
      configId: 'main',
      onStatement: (st) => {
        if (st.keyword.text === 'b') throw new TypeError('boom');
      },
    });
    expect(errors(r)).toEqual([
      'k.conf:3:1: error: keepalived-ts failed while reading the configuration at this point (a bug in keepalived-ts: please report it, with the configuration); it is refused [internal-error]',
    ]);
  });
});
