// `--keywords`: the keyword schema as an indented block tree with argument shapes, defaults,
// old spellings and implementation status. Pure: returns the text.
import { BLOCKS, ROOT, type KeywordSpec } from '../../grammar/keywords.js';
import { describeType, usage } from '../config/schema-check.js';

export function formatKeywords(): string {
  const out: string[] = ['# keepalived.conf keywords known to keepalived-ts', '# (*) = accepted, not implemented yet', ''];
  const seen = new Set<string>();
  const walk = (blockName: string, depth: number) => {
    const block = BLOCKS.get(blockName)!;
    const pad = '  '.repeat(depth);
    for (const k of block.keywords) out.push(pad + line(k, depth));
    for (const k of block.keywords) {
      if (!k.block || k.block === 'list' || k.block === 'any' || seen.has(`${blockName}>${k.block}`)) continue;
      seen.add(`${blockName}>${k.block}`);
      out.push('', `${pad}${k.name} { ... }  (in ${blockName === ROOT ? 'top level' : blockName})`);
      walk(k.block, depth + 1);
    }
  };
  walk(ROOT, 0);
  return out.join('\n') + '\n';
}

function line(k: KeywordSpec, depth: number): string {
  let s = usage(k.name, k.args);
  if (k.block === 'list') s += ' { list }';
  else if (k.block && k.block !== 'any') s += ' { ... }';
  if (k.status === 'parsed') return `${k.name} ... (*)`;
  const types = k.args === 'any' ? [] : k.args.map((a) => `${a.name}: ${describeType(a.type)}`);
  const extra: string[] = [];
  if (types.length) extra.push(types.join(', '));
  if (k.default !== undefined) extra.push(`default ${k.default}`);
  if (k.aliases?.length) extra.push(`old spelling ${k.aliases.join(', ')}`);
  if (k.doc) extra.push(k.doc);
  if (k.status === 'not-applied') extra.push(`not applied: ${k.why ?? 'keepalived-ts does not act on it yet'}`);
  const width = Math.max(1, 44 - depth * 2 - s.length);
  return extra.length ? `${s}${' '.repeat(width)}# ${extra.join('; ')}` : s;
}
