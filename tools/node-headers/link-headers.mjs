// npm runs every package's preinstall before any package's install, and node-gyp builds
// (raw-socket's, unix-dgram's, ours) run at install. This preinstall gives node-gyp the
// running Node's own headers where it looks before downloading them: its cache directory
// (<devdir>/<version>/include -> the headers, plus the installVersion stamp it checks), so
// `npm ci` needs no download wherever Node came from (Debian, official tarballs, nvm, the
// node images). npm 11 no longer passes a project's `node-gyp` setting to its dependencies'
// builds, and a fixed `nodedir` only fits one layout.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findNodeDir } from './find-node-dir.mjs';

const NODE_GYP_INSTALL_VERSION = 11; // node-gyp's package.json "installVersion" (9.x-12.x)

const env = process.env;
const devdir = env.npm_config_devdir || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'node-gyp');
const version = process.version.slice(1);
const target = join(devdir, version);
const nodedir = findNodeDir();
if (!nodedir) {
  process.stderr.write(
    `keepalived-ts: no headers for Node ${process.version} beside ${process.execPath} or in /usr/include/node: node-gyp will try to download them\n`,
  );
} else if (!existsSync(join(target, 'include', 'node', 'node_version.h'))) {
  mkdirSync(target, { recursive: true });
  symlinkSync(join(nodedir, 'include'), join(target, 'include'));
  writeFileSync(join(target, 'installVersion'), `${NODE_GYP_INSTALL_VERSION}\n`);
  process.stderr.write(`keepalived-ts: node-gyp will use ${join(nodedir, 'include', 'node')} (linked from ${target})\n`);
} else {
  const stamp = existsSync(join(target, 'installVersion')) ? readFileSync(join(target, 'installVersion'), 'utf8').trim() : 'none';
  process.stderr.write(`keepalived-ts: node-gyp's headers for ${version} are in place (installVersion ${stamp})\n`);
}
