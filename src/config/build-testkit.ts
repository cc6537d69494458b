// Test helper: a minimal statement splitter (no includes, macros or conditionals) so the
// builder's unit tests do not depend on the front end. The real parser is src/config/parser.ts.
import type { Statement, Word } from './ast.js';

export function splitStatements(text: string, file = 'test.conf'): Statement[] {
  const words: (Word & { line: number })[] = [];
  text.split('\n').forEach((lineText, li) => {
    const re = /"([^"]*)"|'([^']*)'|([{}])|([#!].*$)|([^\s{}"'#!]+)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(lineText))) {
      if (m[4] !== undefined) break;
      const text = m[1] ?? m[2] ?? m[3] ?? m[5] ?? '';
      words.push({ text, quoted: m[1] !== undefined || m[2] !== undefined, pos: { file, line: li + 1, column: m.index + 1 }, line: li + 1 });
    }
  });
  let i = 0;
  const parseBlock = (): Statement[] => {
    const out: Statement[] = [];
    while (i < words.length) {
      const w = words[i]!;
      if (!w.quoted && w.text === '}') {
        i++;
        return out;
      }
      if (!w.quoted && w.text === '{') {
        i++;
        continue;
      }
      const line = w.line;
      i++;
      const args: Word[] = [];
      while (i < words.length && words[i]!.line === line && (words[i]!.quoted || (words[i]!.text !== '{' && words[i]!.text !== '}'))) {
        args.push(strip(words[i++]!));
      }
      let block: Statement[] | null = null;
      let blockOpen = null;
      const next = words[i];
      if (next && !next.quoted && next.text === '{') {
        blockOpen = next.pos;
        i++;
        block = parseBlock();
      }
      out.push({ keyword: strip(w), args, block, blockOpen, pos: w.pos });
    }
    return out;
  };
  return parseBlock();
}

function strip(w: Word & { line?: number }): Word {
  return { text: w.text, quoted: w.quoted, pos: w.pos };
}
