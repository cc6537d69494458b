// The watchdog parent's side of a child's IPC channel, for tests that fork a child alone:
// the config is recorded from a file as the parent records what it accepts, and sent as the
// parent sends it (the child forked with --config-from-parent and `serialization: 'advanced'`).
import type { ChildProcess } from 'node:child_process';
import { loadRecorded } from '../../src/config/snapshot.js';
import type { AcceptedConfig } from '../../src/watchdog/ipc.js';

/** `path` recorded as the parent records a config it accepted (the child refuses it if it is bad). */
export function acceptedConfig(path: string, generation: number): AcceptedConfig {
  return { generation, snapshot: loadRecorded(path, null).snapshot };
}

/** Answers the child's request for its first config with `path`'s recording (generation 1). */
export function serveConfig(proc: ChildProcess, path: string): void {
  proc.on('message', (m: { t?: string }) => {
    if (m.t === 'config-wanted') proc.send({ t: 'config', ...acceptedConfig(path, 1) });
  });
}

/** Sends `path`'s recording as a reload. */
export function sendReload(proc: ChildProcess, path: string, generation: number): void {
  proc.send({ t: 'reload', ...acceptedConfig(path, generation) });
}
