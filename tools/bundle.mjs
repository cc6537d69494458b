#!/usr/bin/env node
// The bundle: one ES module per process entry in dist/bundle/, which bin/keepalived-ts and the
// children it spawns run. Node's ES module loader pays per file (resolution, reading, linking)
// and the compiled tree is a few hundred small modules; a process loading a handful of files
// starts in a fraction of the time (bench/README.md, "Start-up and lazy loading").
//
//   keepalived-ts.js      the command line and the parent (src/cli/main.ts)
//   vrrp.js               the VRRP child (src/vrrp/main.ts)
//   checker.js            the checker child (src/checker/main.ts)
//   config-load-worker.js the config load worker (src/config/load-worker-thread.ts)
//   chunk-*.js            code two entries share, and what a process imports only when its
//                         config uses it (import() of a probe, the status server, genhash...)
//
// Built from the TypeScript sources (tsc still builds dist/src/ for type checking, the tests
// and the benches). npm packages stay external: some load native addons relative to their
// own files, and the heavy ones are loaded on first use already. The code knows it runs from
// the bundle by KEEPALIVED_TS_BUNDLE (src/types/bundle.d.ts), which locates the entries above.
// Source maps are written beside each file (not shipped: package.json "files"); run with
// `node --enable-source-maps` to see TypeScript positions.
//
//   node tools/bundle.mjs          (npm run build runs it after tsc)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_DIR = join(root, 'dist/bundle');

rmSync(BUNDLE_DIR, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    'keepalived-ts': 'src/cli/main.ts',
    vrrp: 'src/vrrp/main.ts',
    checker: 'src/checker/main.ts',
    'config-load-worker': 'src/config/load-worker-thread.ts',
  },
  outdir: BUNDLE_DIR,
  // every file in one directory: the entries find each other with new URL('./x.js', import.meta.url)
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  define: { KEEPALIVED_TS_BUNDLE: 'true' },
  sourcemap: 'linked',
  logLevel: 'warning',
});
