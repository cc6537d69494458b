// Property tests for the config front end: random and mutated configs never make it throw
// (or hit its internal-error safety net), never hang, and every diagnostic and word points
// at a real place. The inputs include issue 17's hostile shapes scaled down (braces nested
// past the bound, lines over 64 KiB, include chains, cycles and self-includes, nested ~SEQ,
// multi-line macros doubling, NUL bytes). Also checks the lexer's plain-line fast path
// against chevrotain, and the windows text is read through against the whole text.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParsedFile, Statement } from './ast.js';
import { lex, lexWithChevrotainOnly, TokenReader, type TokenStream } from './lexer.js';
import { parseConfigFile, parseConfigText, type ParseOptions } from './parser.js';
import { MAX_LINE_BYTES } from './limits.js';
import { newWindow, scanPlainFile, Source, SourceChangedError } from './source.js';

/**
 * One fixed seed, so a run is repeatable and the suite's time is the same each run;
 * fast-check prints the seed (and the path to the failing case) when a property fails.
 * FUZZ_SEED=n explores other inputs.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 17_2026);
fc.configureGlobal({ seed: SEED });
console.info(`frontend.fuzz: seed ${SEED} (FUZZ_SEED to change)`);

const SAMPLES_DIR = '/usr/share/doc/keepalived/samples';
const samples: string[] = fs.existsSync(SAMPLES_DIR)
  ? fs
      .readdirSync(SAMPLES_DIR)
      .filter((f) => f.startsWith('keepalived.conf'))
      .sort()
      .map((f) => fs.readFileSync(path.join(SAMPLES_DIR, f), 'utf8'))
  : [];

/** A hang guard, not a performance check: CPU time, so a busy machine does not trip it. */
const CPU_BUDGET_MS = 200;

/** Files the fuzzed parses may mention: the main one, and includes of missing files. */
const MAIN = '/fuzz/keepalived.conf';
/** Files an include may read: itself again, a cycle, a chain deeper than the lines around it, a binary. */
const INCLUDED: Record<string, string> = {
  'self.conf': 'include self.conf\nk 1\n',
  'loop-a.conf': 'a 1\ninclude loop-b.conf\n',
  'loop-b.conf': 'include loop-a.conf\nb {\n',
  'deep.conf': '{\n'.repeat(200) + 'x 1\n',
  'bin.conf': 'ok 1\nab\0cd\n',
  ...Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`chain${i}.conf`, i < 59 ? `c ${i}\ninclude chain${i + 1}.conf\n` : '$M\n'])),
};
const opts: ParseOptions = {
  configId: 'main',
  readFile: (p) => {
    const text = INCLUDED[p];
    if (text === undefined) throw Object.assign(new Error(`no such file ${p}`), { code: 'ENOENT' });
    return text;
  },
  // "exists.conf" matches (and then cannot be read); the files above match themselves
  glob: (pattern) => (INCLUDED[pattern] !== undefined ? [pattern] : pattern.includes('exists') ? ['exists.conf'] : []),
};
const fileLines = new Map(Object.entries(INCLUDED).map(([f, t]) => [f, t.split('\n')]));

/** A line too long to read, and multi-line macros doubling 9 times (512 lines). */
const LONG_LINE = `k ${'x'.repeat(MAX_LINE_BYTES)}`;
const DOUBLING = ['$D0=d 1 \\', 'd 2', ...Array.from({ length: 8 }, (_, k) => `$D${k + 1}=$D${k} \\\n$D${k}`), '$D8'].join('\n');

function timedParse(text: string): { r: ParsedFile; cpuMs: number } {
  const t0 = process.cpuUsage();
  const r = parseConfigText(text, MAIN, opts);
  const d = process.cpuUsage(t0);
  return { r, cpuMs: (d.user + d.system) / 1000 };
}

function* allStatements(list: Statement[]): Generator<Statement> {
  for (const st of list) {
    yield st;
    if (st.block) yield* allStatements(st.block);
  }
}

/** The structural promises every parse keeps, whatever the input. */
function checkSane(text: string, r: ParsedFile, cpuMs: number): void {
  expect(cpuMs).toBeLessThan(CPU_BUDGET_MS);
  expect(Array.isArray(r.statements)).toBe(true);
  expect(r.files[0]).toBe(MAIN);
  const lines = text.split('\n');
  // plain checks collected into one assertion: an expect() per item would dominate the run
  const problems: string[] = [];
  const inText = (p: { file: string; line: number; column: number }, slack: number) => {
    const ls = p.file === MAIN ? lines : fileLines.get(p.file);
    return (
      ls !== undefined &&
      Number.isInteger(p.line) &&
      Number.isInteger(p.column) &&
      p.line >= 1 &&
      p.line <= ls.length &&
      p.column >= 1 &&
      p.column <= ls[p.line - 1]!.length + slack
    );
  };
  for (const d of r.diagnostics) {
    if (d.code === 'internal-error') problems.push(`internal error: ${d.message}`);
    if (d.severity !== 'error' && d.severity !== 'warning') problems.push(`bad severity ${String(d.severity)}`);
    if (d.message.length === 0) problems.push(`empty message for ${d.code}`);
    // a diagnostic may point just past the end of a line (e.g. a line that ends too early)
    if (!inText(d.pos, 1)) problems.push(`diagnostic ${d.code} outside the text: ${JSON.stringify(d.pos)}`);
  }
  for (const st of allStatements(r.statements)) {
    for (const w of [st.keyword, ...st.args]) {
      if (!inText(w.pos, 0)) problems.push(`word '${w.text}' outside the text: ${JSON.stringify(w.pos)}`);
    }
    if (st.blockOpen && !inText(st.blockOpen, 0)) problems.push(`block open outside the text: ${JSON.stringify(st.blockOpen)}`);
  }
  expect(problems).toEqual([]);
}

// --- generators -------------------------------------------------------------------------

const plainWord = fc.stringMatching(/^[A-Za-z0-9_./:@~$-]{1,10}$/);
const piece = fc.oneof(
  { weight: 10, arbitrary: plainWord },
  { weight: 2, arbitrary: fc.constantFrom('{', '}', '}}', '{ x }') },
  { weight: 2, arbitrary: fc.constantFrom('"a b"', "'c # d'", '"open', "'open", '"x\\"y"', 'a"b c"d') },
  { weight: 2, arbitrary: fc.constantFrom('# c', '! c', '\\#', '\\') },
  { weight: 2, arbitrary: fc.constantFrom('$X', '${X}', '$UNDEF', '${_HASH}', '$', '${', '$X/1', '$M') },
);
const lineArb = fc.oneof(
  { weight: 10, arbitrary: fc.array(piece, { maxLength: 6 }).map((ps) => ps.join(' ')) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '$X=10.0.0.1',
      '$X=$X $X',
      '$M= \\',
      '  line $X \\',
      '$M=a\\',
      '@main k 1',
      '@^main k 2',
      '@other',
      '@',
      '~SEQ(i,3) ip 10.0.${i}.1',
      '~SEQ(i,',
      '~SEQx(i,1,-1,5) k',
      '~LST({a,b},{1,2}) k $a $b',
      '~SEQ(i,2) ~SEQ(j,2) $M',
      'include nothing/*.conf',
      'include exists.conf',
      'include',
      '$1=bad',
      '${X}=bad',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'include self.conf',
      'include loop-a.conf',
      'include chain0.conf',
      'include deep.conf',
      'include bin.conf',
      'a {'.repeat(140),
      LONG_LINE,
      '~SEQ(a,30) ~SEQ(b,30) k $a $b',
      '~SEQ(a,30) ~SEQ(b,30)',
      DOUBLING,
      'x\u0000y',
    ),
  },
);
const configArb = fc.tuple(fc.array(lineArb, { maxLength: 30 }), fc.constantFrom('\n', '\r\n')).map(([lines, eol]) => lines.join(eol));

/** Snippets inserted by the mutator: syntax that stresses every preprocessing path. */
const snippets = [
  '{',
  '}',
  '"',
  "'",
  '$',
  '${',
  '$X',
  '@',
  '@main ',
  '@^main ',
  '~SEQ(',
  '~SEQ(i,3) ',
  '~SEQx(i,0x10) ',
  '~LST(a,1,2) ',
  '#',
  '!',
  '\\',
  '\n',
  ' ',
  '\t',
  'include /nonexistent/x.conf\n',
  'include exists.conf\n',
  '$X=1\n',
  '$M= \\\n',
  '\r\n',
  '}}',
  '{ {',
  '\u00a0',
  'é',
  '{'.repeat(140),
  '\u0000',
  'include self.conf\n',
  'include chain0.conf\n',
  `\n${LONG_LINE}\n`,
  `\n${DOUBLING}\n`,
];

type Mutation = { kind: 'delete'; at: number; len: number } | { kind: 'duplicate'; at: number; len: number } | { kind: 'insert'; at: number; snippet: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), snippet: fc.nat({ max: snippets.length - 1 }) }),
);

function mutate(text: string, muts: Mutation[]): string {
  let t = text;
  for (const m of muts) {
    const at = t.length === 0 ? 0 : m.at % (t.length + 1);
    if (m.kind === 'delete') t = t.slice(0, at) + t.slice(at + m.len);
    else if (m.kind === 'duplicate') t = t.slice(0, at) + t.slice(at, at + m.len) + t.slice(at);
    else t = t.slice(0, at) + snippets[m.snippet] + t.slice(at);
  }
  return t;
}

function dumpTokens(t: TokenStream): string[] {
  return Array.from({ length: t.count }, (_, i) => `${t.kind[i]}:${t.start[i]}-${t.end[i]}`);
}

// --- properties -------------------------------------------------------------------------

describe('front end under random input', () => {
  it('parses random configs without throwing, hanging or placing anything outside the text', () => {
    fc.assert(
      fc.property(configArb, (text) => {
        const { r, cpuMs } = timedParse(text);
        checkSane(text, r, cpuMs);
      }),
      { numRuns: 1500 },
    );
  });

  it('places every word of a macro-free config where its text is written', () => {
    // with no `$`, `@`, `~` or include, each unquoted word's text starts at its position
    const simplePiece = fc.oneof(
      { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z0-9_./:-]{1,8}$/) },
      { weight: 2, arbitrary: fc.constantFrom('{', '}', '# c', '! c', '"q q"', '\t') },
    );
    const simpleConfig = fc.array(
      fc.array(simplePiece, { maxLength: 6 }).map((p) => p.join(' ')),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(simpleConfig, (lines) => {
        const text = lines.join('\n');
        const { r, cpuMs } = timedParse(text);
        checkSane(text, r, cpuMs);
        for (const st of allStatements(r.statements)) {
          for (const w of [st.keyword, ...st.args]) {
            const src = lines[w.pos.line - 1]!.slice(w.pos.column - 1);
            expect(src.startsWith(w.quoted ? `"${w.text}"` : w.text)).toBe(true);
          }
          if (st.blockOpen) expect(lines[st.blockOpen.line - 1]![st.blockOpen.column - 1]).toBe('{');
        }
        for (const d of r.diagnostics) {
          const ch = lines[d.pos.line - 1]![d.pos.column - 1];
          if (d.code === 'unclosed-brace' || d.code === 'unexpected-open-brace') expect(ch).toBe('{');
          if (d.code === 'unexpected-close-brace') expect(ch).toBe('}');
        }
      }),
      { numRuns: 600 },
    );
  });
});

describe('top-level statements handed over one by one (onStatement)', () => {
  it("are exactly the whole parse's statements, with the same diagnostics", () => {
    const streamedParse = (text: string) => {
      const got: Statement[] = [];
      const r = parseConfigText(text, MAIN, { ...opts, onStatement: (st) => got.push(st) });
      return { got, r };
    };
    const check = (text: string) => {
      const whole = parseConfigText(text, MAIN, opts);
      const { got, r } = streamedParse(text);
      expect(r.statements).toEqual([]);
      expect(got).toEqual(whole.statements);
      expect(r.diagnostics).toEqual(whole.diagnostics);
    };
    fc.assert(fc.property(configArb, check), { numRuns: 300 });
    if (samples.length > 0) {
      fc.assert(
        fc.property(fc.nat({ max: samples.length - 1 }), fc.array(mutationArb, { maxLength: 8 }), (which, muts) => check(mutate(samples[which]!, muts))),
        { numRuns: 300 },
      );
    }
  });
});

describe('a file read from its bytes (ASCII, nothing to preprocess)', () => {
  it('parses exactly as its text does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-bytes-'));
    const file = path.join(dir, 'keepalived.conf');
    // the file path skips the preprocessor and decoding only for such files: no `$`, `@`,
    // `~`, include or non-ASCII character (anything else takes the text path, also checked)
    const plainPiece = fc.oneof(
      { weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z0-9_./:-]{1,14}$/) },
      { weight: 3, arbitrary: fc.constantFrom('{', '}', '}}', '{ x }', '# c', '! c', '\\#', '\\', '\t', '\u0001') },
      { weight: 2, arbitrary: fc.constantFrom('"a b"', "'c # d'", '"open', "'open", '"x\\"y"', 'a"b c"d', '"a long quoted value"') },
      { weight: 1, arbitrary: fc.constantFrom('$X', 'include x.conf', '@main', '~SEQ(i,2)', 'é', '\u0000', '{'.repeat(140), LONG_LINE) },
    );
    const text = fc
      .tuple(
        fc.array(
          fc.array(plainPiece, { maxLength: 6 }).map((ps) => ps.join(' ')),
          { maxLength: 30 },
        ),
        fc.constantFrom('\n', '\r\n'),
      )
      .map(([lines, eol]) => lines.join(eol));
    try {
      // one bigger than the read window (256 KB), so words are read across refills
      const big = Array.from({ length: 12_000 }, (_, i) =>
        i % 7 === 0 ? `  k${i} "quoted ${i}" x # c` : `  key_${i % 50} 10.${i % 256}.${i % 99}.1 a-long-word-of-more-than-32-chars-${i} {}`,
      ).join('\n');
      fs.writeFileSync(file, big);
      expect(big.length).toBeGreaterThan(600_000);
      const bigFromFile = parseConfigFile(file, { configId: 'main', glob: () => [] });
      expect(bigFromFile.statements.length).toBe(12_000);
      expect(JSON.parse(JSON.stringify(bigFromFile))).toEqual(JSON.parse(JSON.stringify(parseConfigText(big, file, { configId: 'main', glob: () => [] }))));
      fc.assert(
        fc.property(text, (t) => {
          fs.writeFileSync(file, t);
          const fromFile = parseConfigFile(file, { configId: 'main', glob: () => [] });
          const fromText = parseConfigText(t, file, { configId: 'main', glob: () => [] });
          expect(JSON.parse(JSON.stringify(fromFile))).toEqual(JSON.parse(JSON.stringify(fromText)));
        }),
        { numRuns: 800 },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a plain file streamed through a window', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kt-window-'));
  const file = path.join(dir, 'k.conf');
  const withFile = <T>(text: string, f: (fd: number) => T): T => {
    fs.writeFileSync(file, text);
    const fd = fs.openSync(file, 'r');
    try {
      return f(fd);
    } finally {
      fs.closeSync(fd);
    }
  };

  it('yields the tokens and word texts of the whole text, whatever the window and batch sizes', () => {
    const chars = fc.constantFrom('a', 'b', '1', '.', ' ', '\t', '\n', '\n', '{', '}', '#', '"', "'", '\\');
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 200 }).map((cs) => cs.join('')),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 6 }),
        (text, windowSize, batch) => {
          const expected = lex(text);
          const want = dumpTokens(expected).map((t, i) => `${t}:${text.slice(expected.start[i], expected.end[i])}`);
          const got = withFile(text, (fd) => {
            const window = newWindow(windowSize);
            const length = scanPlainFile(fd, window);
            expect(length).toBe(text.length);
            const reader = new TokenReader(Source.ofPlainFile(fd, length, window), batch);
            const out: string[] = [];
            while (reader.read()) {
              const b = reader.batch;
              for (let i = 0; i < b.count; i++) out.push(`${b.kind[i]}:${b.start[i]}-${b.end[i]}:${reader.source.slice(b.start[i]!, b.end[i]!)}`);
            }
            return out;
          });
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('is not plain with a $, @, ~, include or non-ASCII byte anywhere, also across reads', () => {
    for (const bad of ['$', '@', '~', 'include', 'é']) {
      for (let at = 0; at < 40; at += 3) {
        const text = 'x'.repeat(at) + bad + ' y\n'.repeat(10);
        expect(withFile(text, (fd) => scanPlainFile(fd, newWindow(16)))).toBe(-1);
      }
    }
    expect(withFile('includ e inc lude\n', (fd) => scanPlainFile(fd, newWindow(16)))).toBe(18);
  });

  it('refuses a file that changed after the scan that found it plain', () => {
    // longer, and the same length with a `$`
    for (const change of ['a b\n'.repeat(30) + 'x', 'a b\n'.repeat(10) + '$ b\n' + 'a b\n'.repeat(19)]) {
      expect(() =>
        withFile('a b\n'.repeat(30), (fd) => {
          const window = newWindow(16);
          const length = scanPlainFile(fd, window);
          fs.writeFileSync(file, change);
          const reader = new TokenReader(Source.ofPlainFile(fd, length, window));
          while (reader.read());
        }),
      ).toThrow(SourceChangedError);
    }
  });
});

describe("the preprocessor's output read through a window", () => {
  it('yields the tokens, word texts and errors of the whole text, whatever the pieces and window size', () => {
    const chars = fc.constantFrom('a', 'b', '1', ' ', '\t', '\n', '{', '}', '#', '"', "'", '\\', 'é', '\u00a0');
    const piece = fc.oneof(
      { weight: 30, arbitrary: fc.array(chars, { maxLength: 40 }).map((cs) => cs.join('')) },
      { weight: 1, arbitrary: fc.constantFrom(LONG_LINE, `"${LONG_LINE}`, `é${LONG_LINE}\nafter`) },
    );
    const dump = (t: TokenStream, slice: (s: number, e: number) => string) =>
      Array.from({ length: t.count }, (_, i) => `${t.kind[i]}:${t.start[i]}-${t.end[i]}:${slice(t.start[i]!, t.end[i]!)}`);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 6 }), (pieces, windowSize, batch) => {
        // the reader puts a newline after each piece
        const text = pieces.map((p) => `${p}\n`).join('');
        const whole = lex(text);
        let next = 0;
        const reader = new TokenReader(
          Source.ofFeed(() => pieces[next++] ?? null, newWindow(windowSize)),
          batch,
        );
        const got: string[] = [];
        const errors: string[] = [];
        while (reader.read()) {
          got.push(...dump(reader.batch, (s, e) => reader.source.slice(s, e)));
          errors.push(...reader.batch.errors.map((e) => `${e.offset}:${e.code}`));
        }
        expect(got).toEqual(dump(whole, (s, e) => text.slice(s, e)));
        expect(errors).toEqual(whole.errors.map((e) => `${e.offset}:${e.code}`));
      }),
      { numRuns: 400 },
    );
  });
});

describe.runIf(samples.length > 0)('front end on mutated keepalived samples', () => {
  it('reads every sample cleanly before mutation', () => {
    for (const s of samples) {
      const { r, cpuMs } = timedParse(s);
      checkSane(s, r, cpuMs);
      expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(r.statements.length).toBeGreaterThan(0);
    }
  });

  it('survives deleted, duplicated and inserted text', () => {
    fc.assert(
      fc.property(fc.nat({ max: samples.length - 1 }), fc.array(mutationArb, { minLength: 1, maxLength: 8 }), (which, muts) => {
        const text = mutate(samples[which]!, muts);
        const { r, cpuMs } = timedParse(text);
        checkSane(text, r, cpuMs);
      }),
      { numRuns: 1500 },
    );
  });
});

if (samples.length === 0) {
  // named environment check: the samples ship with Debian's keepalived package
  console.warn(`frontend.fuzz: ${SAMPLES_DIR} is missing; mutated-sample properties skipped`);
}

describe('lexer fast path', () => {
  it('yields exactly the chevrotain tokens on any text', () => {
    const chars = fc.constantFrom('a', 'b', '1', '.', '/', ' ', ' ', '\t', '\r', '\n', '\n', '{', '}', '#', '!', '"', "'", '\\', '$', '\u00a0', 'é', '\u0001');
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 80 }).map((cs) => cs.join('')),
        (text) => {
          const reference = dumpTokens(lexWithChevrotainOnly(text));
          expect(dumpTokens(lex(text))).toEqual(reference);
          // the same text lexed straight from its bytes, as an ASCII file is
          if (/^[\x00-\x7f]*$/.test(text)) expect(dumpTokens(lex(Source.ofAscii(Buffer.from(text, 'latin1'))))).toEqual(reference);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('yields the chevrotain tokens on lines longer than the scanner takes (4096 bytes)', () => {
    for (const line of ['a '.repeat(3000), 'x'.repeat(5000), `${'{ } '.repeat(1100)}# c`, `k ${'w'.repeat(4094)} v`]) {
      const text = `first\n${line}\nlast {\n}\n`;
      expect(dumpTokens(lex(text))).toEqual(dumpTokens(lexWithChevrotainOnly(text)));
    }
  });

  it('gives the same tokens read in batches of whole lines', () => {
    const chars = fc.constantFrom('a', '1', ' ', '\n', '\n', '{', '}', '#', '"', '\\', 'é');
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 80 }).map((cs) => cs.join('')),
        fc.integer({ min: 1, max: 5 }),
        (text, size) => {
          const reader = new TokenReader(text, size);
          const got: string[] = [];
          const batchEnds: string[] = [];
          while (reader.read()) {
            const b = reader.batch;
            got.push(...dumpTokens(b));
            batchEnds.push(b.count === 0 ? 'empty' : text[b.start[b.count - 1]!] === '\n' ? 'newline' : 'other');
          }
          expect(got).toEqual(dumpTokens(lex(text)));
          // every batch but the last ends with a newline: a line is never split between batches
          expect(batchEnds.slice(0, -1).every((e) => e === 'newline')).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
