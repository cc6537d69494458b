import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PARENT_NODE_FLAGS } from './node-flags.js';

describe('node flags', () => {
  it('bin/keepalived-ts starts the parent with PARENT_NODE_FLAGS (its #! line carries them)', () => {
    const first = readFileSync(new URL('../../bin/keepalived-ts', import.meta.url), 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${PARENT_NODE_FLAGS.join(' ')}`);
  });
});
