import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PACKAGE_VERSION, versionText } from './main.js';

describe('-v', () => {
  it("starts with keepalived 2.2.7's first line (exporters parse it) and names our version", () => {
    const text = versionText('Linux 6.1.0');
    expect(text.split('\n')[0]).toBe('Keepalived v2.2.7 (01/16,2022)');
    expect(text).toContain(`keepalived-ts v${PACKAGE_VERSION}: `);
    expect(text).toContain('Running on Linux 6.1.0');
  });

  it("our version is package.json's", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });
});
