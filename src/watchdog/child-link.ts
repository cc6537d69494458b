// The child's end of the watchdog link: heartbeats, and shutting down when the parent goes.
import type { LoadSource } from '../config/load-worker.js';
import type { KeepalivedConfig } from '../config/model.js';
import { isParentMessage, type ChildToParent, type ConfigForChild, type ParentToChild } from './ipc.js';

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 500;

export interface ChildLinkHandlers {
  /** The parent is gone (channel closed) or asked us to stop: shut down as on TERM. */
  onShutdown: (why: 'parent-gone' | 'requested') => void;
  onMessage?: (m: ParentToChild) => void;
}

export interface ChildLink {
  send(m: ChildToParent): void;
  close(): void;
}

/** Returns null when this process was not forked with an IPC channel (e.g. `-P -n` alone). */
export function connectToParent(handlers: ChildLinkHandlers, heartbeatIntervalMs = DEFAULT_HEARTBEAT_INTERVAL_MS): ChildLink | null {
  if (!process.send || !process.connected) return null;
  const send = (m: ChildToParent) => {
    if (process.connected) process.send!(m);
  };
  // unref: the heartbeat alone must not keep a finished child alive.
  const beat = setInterval(() => send({ t: 'heartbeat' }), heartbeatIntervalMs);
  beat.unref();
  const onMessage = (m: unknown) => {
    if (!isParentMessage(m)) return;
    if (m.t === 'shutdown') handlers.onShutdown('requested');
    else handlers.onMessage?.(m);
  };
  const onDisconnect = () => handlers.onShutdown('parent-gone');
  process.on('message', onMessage);
  process.once('disconnect', onDisconnect);
  send({ t: 'heartbeat' });
  return {
    send,
    close() {
      clearInterval(beat);
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
    },
  };
}

/**
 * Asks the parent for the config to run: the last one it accepted, as it read it (never the
 * file on the disk now, which may hold an edit the parent refused). Rejects when the parent
 * goes away first.
 */
export function receiveConfig(): Promise<ConfigForChild> {
  return new Promise((resolve, reject) => {
    if (!process.send || !process.connected) return reject(new Error('no watchdog parent to ask for the configuration'));
    const onMessage = (m: unknown) => {
      if (!isParentMessage(m) || m.t !== 'config') return;
      done();
      resolve({ generation: m.generation, snapshot: m.snapshot, ...(m.model ? { model: m.model } : {}) });
    };
    const onDisconnect = () => {
      done();
      reject(new Error('the watchdog parent went away before sending the configuration'));
    };
    const done = () => {
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
    };
    process.on('message', onMessage);
    process.once('disconnect', onDisconnect);
    process.send({ t: 'config-wanted' } satisfies ChildToParent);
  });
}

/**
 * Where a child's first config comes from: the parent's last accepted one when it runs under
 * the parent (`fromParent`), else the file on the disk (a child run by hand). Generation 0 is
 * a config the parent did not send. `model`: the child's part of it, as the parent sends it
 * built (the child then has nothing to load).
 */
export async function startingConfig(fromParent: boolean, disk: LoadSource): Promise<{ source: LoadSource; generation: number; model?: KeepalivedConfig }> {
  if (!fromParent) return { source: disk, generation: 0 };
  const { snapshot, generation, model } = await receiveConfig();
  return { source: { kind: 'snapshot', snapshot }, generation, ...(model ? { model } : {}) };
}

/** A HUP sent to a child itself: under the parent, reloading is the parent's job. */
export const CHILD_HUP_IGNORED = 'SIGHUP ignored: the watchdog parent reloads the configuration (send it the HUP)';
