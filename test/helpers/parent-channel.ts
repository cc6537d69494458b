// The watchdog parent's side of a child's IPC channel, for tests that fork a child alone:
// the config is recorded from a file as the parent records what it accepts, and sent as the
// parent sends it (the child forked with --config-from-parent and `serialization: 'advanced'`),
// with the child's part of the model when the test gives one (partOf).
import type { ChildProcess } from 'node:child_process';
import { loadInThisThread, type ModelPart } from '../../src/config/load-worker.js';
import type { KeepalivedConfig } from '../../src/config/model.js';
import { loadRecorded } from '../../src/config/snapshot.js';
import type { AcceptedConfig } from '../../src/watchdog/ipc.js';

/** `path` recorded as the parent records a config it accepted (the child refuses it if it is bad). */
export function acceptedConfig(path: string, generation: number): AcceptedConfig {
  return { generation, snapshot: loadRecorded(path, null).snapshot };
}

/** `part` of `path`'s model, as the parent builds it for a child. */
export async function partOf(path: string, part: ModelPart): Promise<KeepalivedConfig> {
  const r = await loadInThisThread({ source: { kind: 'disk', path, configId: null }, tolerant: true, parts: [part], maxDiagnostics: 0 });
  const model = r.models[part];
  if (!model) throw new Error(`${path} does not load`);
  return model;
}

const withModel = (model?: KeepalivedConfig) => (model ? { model } : {});

/** Answers the child's request for its first config with `path`'s recording (generation 1), and `model` when given. */
export function serveConfig(proc: ChildProcess, path: string, model?: KeepalivedConfig): void {
  proc.on('message', (m: { t?: string }) => {
    if (m.t === 'config-wanted') proc.send({ t: 'config', ...acceptedConfig(path, 1), ...withModel(model) });
  });
}

/** Sends `path`'s recording as a reload, and `model` when given. */
export function sendReload(proc: ChildProcess, path: string, generation: number, model?: KeepalivedConfig): void {
  proc.send({ t: 'reload', ...acceptedConfig(path, generation), ...withModel(model) });
}
