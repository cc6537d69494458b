// glob for include: `*`, `?`, `[...]` (with `!` or `^` negation) and csh braces `{a,b}`.
// Like glob(3) with GLOB_BRACE, as keepalived calls it: wildcards do not match a leading
// `.`, each brace alternative's matches are sorted, and what is not a regular
// non-executable file (directories, devices, programs) is skipped, as keepalived skips it.
//
// Bounded (limits.ts): a pattern expands to at most MAX_GLOB_ALTERNATIVES patterns, and the
// patterns of one load look at most at MAX_GLOB_ENTRIES directory entries, so a pattern
// such as three `*` levels from the root ends with an error, not a walk of the whole file
// system. A component is matched by a loop that takes time proportional to the pattern
// times the name (a regular expression of several `*` can take exponential time).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatCount, MAX_GLOB_ALTERNATIVES, MAX_GLOB_ENTRIES } from './limits.js';

/** A pattern that crossed a bound; its message is plain words for the user. */
export class GlobLimitError extends Error {}

/** What the include patterns of one load may still look at. */
export interface GlobBudget {
  entries: number;
}

export function newGlobBudget(): GlobBudget {
  return { entries: MAX_GLOB_ENTRIES };
}

/** The first `{...}` group holding a top-level comma: its bounds and alternatives. */
function firstBraceGroup(p: string): { open: number; close: number; alts: string[] } | null {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
    } else if (c === '{') {
      if (depth++ === 0) open = i;
    } else if (c === '}' && depth > 0 && --depth === 0) {
      const alts: string[] = [];
      let d = 0;
      let from = open + 1;
      for (let j = open + 1; j < i; j++) {
        const x = p[j];
        if (x === '\\') j++;
        else if (x === '{') d++;
        else if (x === '}') d--;
        else if (x === ',' && d === 0) {
          alts.push(p.slice(from, j));
          from = j + 1;
        }
      }
      alts.push(p.slice(from, i));
      // `{x}` with no comma is literal in csh: keep it and look further
      if (alts.length > 1) return { open, close: i, alts };
    }
  }
  return null;
}

/** Expand csh-style braces: `a{b,c{d,e}}f` -> abf, acdf, acef. */
export function expandBraces(pattern: string): string[] {
  const out: string[] = [];
  // patterns still to expand, the next one last; each yields at least one result
  const todo = [pattern];
  while (todo.length > 0) {
    const p = todo.pop()!;
    const g = firstBraceGroup(p);
    if (g === null) {
      out.push(p);
      continue;
    }
    if (out.length + todo.length + g.alts.length > MAX_GLOB_ALTERNATIVES) {
      throw new GlobLimitError(`its {...} alternatives make more than ${formatCount(MAX_GLOB_ALTERNATIVES)} patterns`);
    }
    const head = p.slice(0, g.open);
    const tail = p.slice(g.close + 1);
    for (let k = g.alts.length - 1; k >= 0; k--) todo.push(head + g.alts[k] + tail);
  }
  return out;
}

function hasMagic(s: string): boolean {
  return /[*?[]/.test(s);
}

const STAR = -1;
const ANY = -2;

/** One path component's pattern, compiled. */
export interface SegmentPattern {
  test(name: string): boolean;
}

/**
 * One path component's pattern: `*`, `?`, `[...]` (ranges, `!` or `^` negation; a `]`
 * first is literal), `\x` for a literal x.
 */
export function segmentPattern(seg: string): SegmentPattern {
  // each element: a char code, STAR, ANY, or a character class
  const elems: (number | ((c: number) => boolean))[] = [];
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') {
      if (elems[elems.length - 1] !== STAR) elems.push(STAR);
    } else if (c === '?') {
      elems.push(ANY);
    } else if (c === '[' && seg.indexOf(']', i + 2) >= 0) {
      const close = seg.indexOf(']', i + 2);
      let body = seg.slice(i + 1, close);
      const negate = body[0] === '!' || body[0] === '^';
      if (negate) body = body.slice(1);
      elems.push(characterClass(body, negate));
      i = close;
    } else if (c === '\\' && i + 1 < seg.length) {
      elems.push(seg.charCodeAt(++i));
    } else {
      elems.push(seg.charCodeAt(i));
    }
  }
  return { test: (name) => matchElements(elems, name) };
}

function characterClass(body: string, negate: boolean): (c: number) => boolean {
  const ranges: [number, number][] = [];
  for (let k = 0; k < body.length; k++) {
    if (body[k + 1] === '-' && k + 2 < body.length) {
      ranges.push([body.charCodeAt(k), body.charCodeAt(k + 2)]);
      k += 2;
    } else {
      ranges.push([body.charCodeAt(k), body.charCodeAt(k)]);
    }
  }
  return (c) => ranges.some(([lo, hi]) => c >= lo && c <= hi) !== negate;
}

/** Whole-name match; on a mismatch only the last `*` is retried, which suffices for globs. */
function matchElements(elems: (number | ((c: number) => boolean))[], name: string): boolean {
  let p = 0;
  let n = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const e = elems[p];
    if (e === STAR) {
      starP = p++;
      starN = n;
      continue;
    }
    const c = name.charCodeAt(n);
    if (e !== undefined && (e === ANY || (typeof e === 'number' ? e === c : e(c)))) {
      p++;
      n++;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (elems[p] === STAR) p++;
  return p === elems.length;
}

/** A directory's entry names, each counted against the budget; [] when it cannot be read. */
function readDirectory(dir: string, budget: GlobBudget): string[] {
  let handle: fs.Dir;
  try {
    handle = fs.opendirSync(dir, { bufferSize: 256 });
  } catch {
    return [];
  }
  const names: string[] = [];
  try {
    for (let e = handle.readSync(); e !== null; e = handle.readSync()) {
      if (--budget.entries < 0) {
        throw new GlobLimitError(`the include patterns would look at more than ${formatCount(MAX_GLOB_ENTRIES)} directory entries`);
      }
      names.push(e.name);
    }
  } catch (e) {
    if (e instanceof GlobLimitError) throw e;
  } finally {
    handle.closeSync();
  }
  return names;
}

/** A regular file without execute permission (keepalived includes only those). */
function isIncludable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    return st.isFile() && (st.mode & 0o111) === 0;
  } catch {
    return false;
  }
}

/**
 * Files matching `pattern` (relative to `cwd` unless absolute), sorted per alternative.
 * Throws GlobLimitError past a bound.
 */
export function globFiles(pattern: string, cwd: string, budget: GlobBudget = newGlobBudget()): string[] {
  const out: string[] = [];
  for (const alt of expandBraces(pattern)) {
    const abs = path.isAbsolute(alt);
    const parts = alt.split('/').filter((p, i) => p.length > 0 || i === 0);
    let bases: string[] = [abs ? '/' : ''];
    for (let i = abs ? 1 : 0; i < parts.length; i++) {
      const part = parts[i]!;
      const next: string[] = [];
      if (!hasMagic(part)) {
        for (const b of bases) next.push(b === '' ? part : path.join(b, part));
      } else {
        const match = segmentPattern(part);
        for (const b of bases) {
          const names = readDirectory(path.resolve(cwd, b || '.'), budget);
          names.sort();
          for (const name of names) {
            if (name.startsWith('.') && !part.startsWith('.')) continue;
            if (match.test(name)) next.push(b === '' ? name : path.join(b, name));
          }
        }
      }
      bases = next;
    }
    const files = bases.filter((b) => isIncludable(path.resolve(cwd, b)));
    files.sort();
    for (const f of files) out.push(f);
  }
  return out;
}
