// A stand-in child for the supervisor tests, built on the real child link (from dist/).
// CHILD_MODE: normal | stuck (event loop blocks after start-up) | fatal (exits with 4) |
// loading (busy for 1.5 s before it connects, as a child loading its modules) | gated (loading
// until the file CHILD_MARK.go exists: the test decides when it has started).
// CHILD_MARK: a file where it appends what happened to it.
// With --config-from-parent (as the daemon forks its children) it asks the parent for the
// config first, and marks what it was sent: `config|reload gen=N priority=P` (the first
// `priority` of the main file's bytes), and what the child's part of the model that came with
// it carries: `first-model ...` (the first config) or `model ...` (a reload), each `gen=N
// role=R instances=I priority=P vs=V` (its VRRP instances, the first one's priority, its
// virtual servers).
import { appendFileSync, existsSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { connectToParent, receiveConfig } from '../../../dist/src/watchdog/child-link.js';

const mark = (s) => process.env.CHILD_MARK && appendFileSync(process.env.CHILD_MARK, `${process.pid} ${s}\n`);
const mode = process.env.CHILD_MODE ?? 'normal';
const role = process.env.KEEPALIVED_TS_ROLE;
const carried = (kind, m) =>
  `${kind} gen=${m.generation} role=${role} instances=${m.model.vrrpInstances.length} priority=${m.model.vrrpInstances[0]?.priority ?? '-'} vs=${m.model.virtualServers.length}`;
const sent = (kind, m) => {
  const main = m.snapshot.files.find((f) => f.path === m.snapshot.path);
  const text = main && 'deflated' in main ? inflateRawSync(main.deflated).toString('utf8') : '';
  return `${kind} gen=${m.generation} priority=${/priority (\d+)/.exec(text)?.[1] ?? '?'}`;
};
mark('start');
if (mode === 'fatal') process.exit(4);
if (mode === 'loading') for (const end = Date.now() + 1500; Date.now() < end;);
if (mode === 'gated') {
  const nap = new Int32Array(new SharedArrayBuffer(4)); // blocks the event loop, as loading does
  while (!existsSync(`${process.env.CHILD_MARK}.go`)) Atomics.wait(nap, 0, 0, 20);
}
if (process.argv.includes('--config-from-parent')) {
  const first = await receiveConfig();
  mark(sent('config', first));
  if (first.model) mark(carried('first-model', first));
}

const keepAlive = setInterval(() => {}, 1000);
const stop = (why) => { mark(`shutdown ${why}`); clearInterval(keepAlive); link?.close(); process.exit(0); };
const link = connectToParent({
  onShutdown: stop,
  onMessage: (m) => {
    if (m.t === 'collect') {
      const metrics = [{ name: 'standin_up', help: 'stand-in child', type: 'gauge', aggregator: 'sum', values: [{ value: 1, labels: { role: process.env.KEEPALIVED_TS_ROLE } }] }];
      link.send({ t: 'snapshot', id: m.id, metrics, status: { pid: process.pid } });
      return;
    }
    if (m.t !== 'reload') return;
    mark(sent('reload', m));
    // the child's part of the model, built by the parent from the same bytes
    if (m.model) mark(carried('model', m));
    link.send({ t: 'reloaded', ok: true, generation: m.generation });
  },
}, 100);
process.on('SIGTERM', () => stop('SIGTERM'));
link?.send({ t: 'ready' });
mark('ready');
link?.send({ t: 'ready' }); // as the real children, once running
if (mode === 'stuck') setTimeout(() => { mark('stuck'); for (;;) { /* spin: a child stuck in a busy loop */ } }, 300);
