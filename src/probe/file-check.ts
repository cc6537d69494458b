// FILE_CHECK: the number in a track_file decides. keepalived reads the file's leading
// integer (anything else counts as 0). With weight 0 the checker is down while the value is
// non-zero; otherwise it stays up and offsets the real server's weight by value x weight
// (negated with `reverse`).
import { readFile } from 'node:fs/promises';
import type { FileCheck } from '../config/model.js';
import { down, up, type CheckContext, type CheckOutcome, type CheckTarget } from './outcome.js';

export function parseTrackedValue(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}

export function judgeFileValue(value: number, weight: number, reverse: boolean): CheckOutcome {
  if (weight === 0) return value === 0 ? up('value 0') : down(`value ${value}`);
  const delta = value * weight * (reverse ? -1 : 1);
  return up(`value ${value}`, { weight: delta, weightMode: 'add' });
}

export async function runFileCheck(check: FileCheck, _target: CheckTarget, ctx: CheckContext = {}): Promise<CheckOutcome> {
  const tf = ctx.trackFiles?.find((t) => t.name === check.trackFile);
  if (!tf) return down(`track_file ${check.trackFile} not defined`);
  // The checker's own weight overrides the track_file's (keepalived: only when non-zero).
  const weight = check.weight ? check.weight : tf.weight;
  const reverse = check.weight ? check.reverse : tf.weightReverse;
  let text: string;
  try {
    text = await readFile(tf.file, 'utf8');
  } catch {
    // A missing file reads as 0, as keepalived treats an absent tracked file.
    text = '0';
  }
  return judgeFileValue(parseTrackedValue(text), weight, reverse);
}
