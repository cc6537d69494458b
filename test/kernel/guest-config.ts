// Loading the config front end inside the guest, for scenarios that run our checker in-process.
import { createRequire, register } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * chevrotain's package entry pulls in lodash-es, ~640 modules: loading them over 9p in a TCG
 * guest took 125 s here. chevrotain ships the same library bundled in one file
 * (lib/chevrotain.mjs); resolve the bare name to it for this runner only, then load the
 * config front end. The parser code under test is unchanged.
 */
export async function loadConfigFast(): Promise<typeof import('../../src/config/index.js')> {
  const require = createRequire(import.meta.url);
  const bundle = pathToFileURL(join(dirname(require.resolve('chevrotain')), '..', 'chevrotain.mjs')).href;
  const hooks = `export async function resolve(s, c, next) { return s === 'chevrotain' ? { url: ${JSON.stringify(bundle)}, shortCircuit: true } : next(s, c); }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  return import('../../src/config/index.js');
}
