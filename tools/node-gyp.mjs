#!/usr/bin/env node
// node-gyp with the running Node's own headers, so building the native addons needs no
// download: npm runs this for every `node-gyp rebuild` install script (the project's .npmrc
// names it), and this package's own install script calls it.
//
// The headers are searched as node-headers/find-node-dir.mjs says. With none found, node-gyp
// is run as it is (it would download headers) and we say why first.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findNodeDir } from './node-headers/find-node-dir.mjs';

/** npm's own node-gyp (every npm ships one), or one installed beside us. */
function nodeGypScript() {
  const npmCli = process.env.npm_execpath;
  const candidates = [
    ...(npmCli ? [join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')] : []),
    join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return null;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const gyp = nodeGypScript();
  if (!gyp) {
    process.stderr.write('keepalived-ts: node-gyp not found (it comes with npm); install npm, or node-gyp\n');
    process.exit(1);
  }
  const nodedir = args.some((a) => a.startsWith('--nodedir')) ? null : findNodeDir();
  if (nodedir) process.stderr.write(`keepalived-ts: node-gyp --nodedir=${nodedir} (the headers of ${process.execPath})\n`);
  else if (!args.some((a) => a.startsWith('--nodedir'))) {
    process.stderr.write(
      `keepalived-ts: no headers for Node ${process.version} next to ${process.execPath} or in /usr/include/node; node-gyp will try to download them\n`,
    );
  }
  // a nodedir from npm's configuration (npm_config_nodedir) would win over ours in node-gyp
  const env = { ...process.env };
  if (nodedir) for (const k of Object.keys(env)) if (k.toLowerCase() === 'npm_config_nodedir') delete env[k];
  const r = spawnSync(process.execPath, [gyp, ...args, ...(nodedir ? [`--nodedir=${nodedir}`] : [])], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}
