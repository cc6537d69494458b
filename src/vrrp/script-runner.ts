// vrrp_script runner: runs the script every `interval`, kills its process group at
// `timeout` (a timeout is a failure), feeds exit codes through rise/fall
// (script-status.ts) and reports only status changes. The first report comes after the
// first result, so instances tracking the script stay in INIT until then (keepalived).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { VrrpScript } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { vrrpScriptLine, type ScriptExit } from '../log/keepalived-lines.js';
import { applyScriptResult, initialScriptCounter, type ScriptCounter, type ScriptStatus } from './script-status.js';
import { decideRunAs, type ScriptPolicy } from './notify.js';
import { riseFallFor } from './instance-spec.js';

/** `exit`: how the run ended, for keepalived's wording of the result (keepalived-lines.ts). */
export type ScriptResult = { success: boolean; why: string; exit: ScriptExit };

/** One execution: resolves with success (exit 0) or failure (exit != 0, timeout, spawn error). */
export function runScriptOnce(script: VrrpScript, policy: ScriptPolicy, signal?: AbortSignal): Promise<ScriptResult> {
  const d = decideRunAs({ argv: script.script.argv, user: script.user ?? script.script.user, group: script.user ? script.group : script.script.group }, policy);
  if (!d.ok) return Promise.resolve({ success: false, why: d.why, exit: { kind: 'not-run' } });
  const argv = script.script.argv;
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: 'ignore',
      detached: true, // own process group: a timeout kills whatever it started too
      ...(d.runAs ? { uid: d.runAs.uid, gid: d.runAs.gid } : {}),
    });
    let done = false;
    const finish = (r: ScriptResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      kill();
      finish({ success: false, why: `timeout after ${script.timeoutMs} ms`, exit: { kind: 'timeout' } });
    }, script.timeoutMs);
    const onAbort = () => {
      kill();
      finish({ success: false, why: 'aborted', exit: { kind: 'not-run' } });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (e) => finish({ success: false, why: `spawn failed: ${e.message}`, exit: { kind: 'not-run' } }));
    child.once('exit', (code, sig) =>
      finish(code === 0 ? { success: true, why: 'exit 0', exit: { kind: 'exit', code } }
        : code === null ? { success: false, why: `killed by ${sig}`, exit: { kind: 'signal', signal: constants.signals[sig!] } }
          : { success: false, why: `exit ${code}`, exit: { kind: 'exit', code } }),
    );
  });
}

export class VrrpScriptRunner {
  private counter: ScriptCounter;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private stopped = false;
  private running = false;

  constructor(
    readonly script: VrrpScript,
    private readonly policy: ScriptPolicy,
    private readonly onStatus: (name: string, status: ScriptStatus) => void,
    private readonly log: Logger,
  ) {
    this.counter = initialScriptCounter(riseFallFor(script));
  }

  get status(): ScriptStatus {
    return this.counter.status;
  }

  /** The rise/fall counter now, and whether a run is in progress (keepalived.data shows both). */
  state(): ScriptCounter & { running: boolean } {
    return { ...this.counter, running: this.running };
  }

  start(): void {
    // init_fail: the instance must see the failed status before the first run finishes
    if (this.counter.status === 'bad') this.onStatus(this.script.name, 'bad');
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const started = performance.now();
    this.running = true;
    const r = await runScriptOnce(this.script, this.policy, this.abort.signal);
    this.running = false;
    if (this.stopped) return;
    const out = applyScriptResult(this.counter, r.success, riseFallFor(this.script));
    this.counter = out.next;
    if (out.changedTo) {
      this.log.info({ event: { script: this.script.name, result: r.why, status: out.changedTo } }, vrrpScriptLine(this.script.name, r.exit));
      this.onStatus(this.script.name, out.changedTo);
    }
    // the interval counts from the start of a run, as keepalived's timer does
    const wait = Math.max(0, this.script.intervalMs - (performance.now() - started));
    this.timer = setTimeout(() => void this.tick(), wait);
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
  }
}
