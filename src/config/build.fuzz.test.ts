// Property: whatever statement tree the front end hands over, building and validating only
// ever yields diagnostics (each with a position) and never throws. Trees are drawn from the
// schema's own keywords (so deep blocks are reached) mixed with junk words and arguments.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCKS } from '../../grammar/keywords.js';
import type { Statement, Word } from './ast.js';
import { buildAndValidate } from './build-pipeline.js';

const KEYWORDS = [...new Set([...BLOCKS.values()].flatMap((b) => b.keywords.map((k) => k.name)))];
const ARG_WORDS = [
  '0',
  '1',
  '255',
  '256',
  '-1',
  '65536',
  '10.0.0.1',
  '10.0.0.1/24',
  'fd00::1',
  'ff02::12/129',
  'MASTER',
  'Master',
  'BACKUP',
  'eth0',
  'VI_1',
  'G',
  'weight',
  'reverse',
  'group',
  'fwmark',
  'inst',
  'id',
  'tcp',
  '10.0.0.1-9',
  'on',
  'off',
  'TUN',
  'type',
  '200-299',
  '2xx',
  'dev',
  'brd',
  'label',
  'min_ttl',
  '',
  '"',
  '{',
];

const pos = { file: 'f.conf', line: 1, column: 1 };
const word = (text: string): Word => ({ text, quoted: false, pos });

const wordArb = fc.oneof(fc.constantFrom(...KEYWORDS), fc.constantFrom(...ARG_WORDS), fc.string({ maxLength: 8 }));
const statementArb: fc.Memo<Statement> = fc.memo((depth) =>
  fc
    .record({
      keyword: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYWORDS) }, { weight: 1, arbitrary: wordArb }).map(word),
      args: fc.array(wordArb.map(word), { maxLength: 4 }),
      block: depth <= 1 ? fc.constant(null) : fc.option(fc.array(statementArb(depth - 1), { maxLength: 6 }), { nil: null }),
    })
    .map((s) => ({ ...s, blockOpen: s.block ? pos : null, pos })),
);

describe('builder robustness', () => {
  it('never throws, and reports only positioned diagnostics', () => {
    fc.assert(
      fc.property(fc.array(statementArb(4), { maxLength: 8 }), (statements) => {
        const r = buildAndValidate(statements, ['f.conf'], [], 'host', new Set(['eth0']));
        for (const d of r.diagnostics) {
          expect(d.pos.file).toBe('f.conf');
          expect(d.message.length).toBeGreaterThan(0);
        }
        expect(r.config === null).toBe(r.diagnostics.some((d) => d.severity === 'error'));
      }),
      { numRuns: 1500 },
    );
  });
});
