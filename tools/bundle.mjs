#!/usr/bin/env node
// The bundle: one CommonJS file per process entry in dist/bundle/, which bin/keepalived-ts and
// the children it spawns run, each with a V8 code cache. Node's module loaders pay per file
// (resolution, reading, linking) and the compiled tree is a few hundred small modules; a
// process loading one file starts in a fraction of the time, and one compiled from its code
// cache skips parsing and compiling its code (bench/README.md, "Start-up and lazy loading",
// "Code cache"). CommonJS because Node 20 caches compiled code only for scripts (vm.Script).
//
//   ENTRY.cjs          the launcher: the file Node runs (node bin, fork, Worker); it loads
//                      ENTRY.code.cjs through load.cjs (src/process/code-cache.ts) and calls
//                      the entry's main
//   ENTRY.code.cjs     the entry and everything it imports of ours; what a process imports
//                      only when its config uses it (import() of a probe, the status server,
//                      genhash...) is in it too, run on first use (esbuild's lazy modules)
//   ENTRY.code.cache   its V8 code cache, made here by a Node with the process's own V8 flags
//                      (src/daemon/node-flags.ts): a cache V8 refuses (another Node, other
//                      flags) is only slower, never a failed start
//   the entries:  keepalived-ts (the command line and the parent, src/cli/main.ts), vrrp (the
//                 VRRP child, src/vrrp/main.ts), checker (src/checker/main.ts),
//                 config-load-worker (the config load worker, src/config/load-worker-thread.ts)
//
// Built from the TypeScript sources (tsc still builds dist/src/ for type checking, the tests
// and the benches). npm packages stay external: some load native addons relative to their
// own files, and the heavy ones are loaded on first use already. The code knows it runs from
// the bundle by KEEPALIVED_TS_BUNDLE (src/types/bundle.d.ts). Source maps are written beside
// each file (not shipped: package.json "files"); with `node --enable-source-maps` the code is
// loaded by Node's own loader, which applies them (no cache then).
//
//   node tools/bundle.mjs          (npm run build runs it after tsc)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_NODE_FLAGS, PARENT_NODE_FLAGS } from '../dist/src/daemon/node-flags.js';
import { CODE_SUFFIX, keyLine } from '../dist/src/process/code-cache.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_DIR = join(root, 'dist/bundle');

/** Each entry, its source and the V8 flags of the process that runs it. */
const ENTRIES = {
  'keepalived-ts': { source: 'src/cli/main.ts', flags: PARENT_NODE_FLAGS },
  vrrp: { source: 'src/vrrp/main.ts', flags: CHILD_NODE_FLAGS.vrrp },
  checker: { source: 'src/checker/main.ts', flags: CHILD_NODE_FLAGS.checker },
  // a thread of the parent (or of the VRRP child, whose flags are the parent's)
  'config-load-worker': { source: 'src/config/load-worker-thread.ts', flags: PARENT_NODE_FLAGS },
};

rmSync(BUNDLE_DIR, { recursive: true, force: true });
const { metafile } = await build({
  absWorkingDir: root,
  entryPoints: {
    ...Object.fromEntries(Object.entries(ENTRIES).map(([name, { source }]) => [name + CODE_SUFFIX.replace(/\.cjs$/, ''), source])),
    load: 'src/process/code-cache.ts',
  },
  outdir: BUNDLE_DIR,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // import() of an npm package or a built-in becomes a require() on first use: a script
  // compiled from a code cache cannot import() (Node 20 loses its import callback)
  supported: { 'dynamic-import': false },
  // the code's import.meta.url: its own file's (it locates the entries and the addons beside it)
  define: { KEEPALIVED_TS_BUNDLE: 'true', 'import.meta.url': '__import_meta_url' },
  banner: { js: 'var __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  // non-ASCII characters escaped: load.cjs reads the code as latin1
  charset: 'ascii',
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const dynamic = Object.entries(metafile.outputs).flatMap(([file, out]) =>
  out.imports.filter((i) => i.kind === 'dynamic-import').map((i) => `${file}: import(${i.path})`),
);
if (dynamic.length > 0) throw new Error(`the bundle must not import(): ${dynamic.join(', ')}`);

for (const [name, { flags }] of Object.entries(ENTRIES)) {
  const codePath = join(BUNDLE_DIR, name + CODE_SUFFIX);
  const code = readFileSync(codePath, 'utf8');
  writeFileSync(codePath, code + keyLine(createHash('sha256').update(code).digest('hex').slice(0, 32)));
  writeFileSync(join(BUNDLE_DIR, `${name}.cjs`), `'use strict';\nrequire('./load.cjs').start(__dirname, ${JSON.stringify(name)});\n`);
  execFileSync(
    process.execPath,
    [...flags, '-e', `require(${JSON.stringify(join(BUNDLE_DIR, 'load.cjs'))}).writeCache(${JSON.stringify(BUNDLE_DIR)}, ${JSON.stringify(name)})`],
    {
      stdio: 'inherit',
    },
  );
}
