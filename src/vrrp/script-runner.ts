// vrrp_script runner: runs the script every `interval` through the process's ScriptHost
// (own process group, killed with everything it started at `timeout`; a timeout is a
// failure), feeds exit codes through rise/fall (script-status.ts) and reports only status
// changes. The first report comes after the first result, so instances tracking the script
// stay in INIT until then (keepalived). A script the host disabled at load never gets a
// runner: the engine leaves it out of tracking.
import { constants } from 'node:os';
import type { VrrpScript } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { vrrpScriptLine, type ScriptExit } from '../log/keepalived-lines.js';
import { describeEnd, ownerOf, type Prepared, type ScriptEnd, type ScriptHost } from '../script/index.js';
import { applyScriptResult, initialScriptCounter, type ScriptCounter, type ScriptStatus } from './script-status.js';
import { riseFallFor } from './instance-spec.js';

/** `exit`: how the run ended, for keepalived's wording of the result (keepalived-lines.ts). */
export type ScriptResult = { success: boolean; why: string; exit: ScriptExit };

/** The host's vetting of a vrrp_script under the loaded config. */
export function vrrpScriptVerdict(script: VrrpScript, host: ScriptHost): Prepared {
  return host.verdict(script.script.argv[0] ?? '', ownerOf(script.user, script.group));
}

/** How a run ended, in the terms of keepalived's result lines (keepalived-lines.ts). */
function exitOf(end: ScriptEnd): ScriptExit {
  switch (end.how) {
    case 'exit':
      return { kind: 'exit', code: end.code };
    case 'signal':
      return { kind: 'signal', signal: constants.signals[end.signal] };
    case 'timeout':
      return { kind: 'timeout' };
    default:
      return { kind: 'not-run' };
  }
}

/** One execution: success is exit 0; any other exit, a signal, the timeout or a refusal fails. */
export async function runScriptOnce(script: VrrpScript, host: ScriptHost, signal?: AbortSignal): Promise<ScriptResult> {
  const p = vrrpScriptVerdict(script, host);
  if (!p.ok) return { success: false, why: p.why, exit: { kind: 'not-run' } };
  const end = await host.run(p, script.script.argv.slice(1), script.timeoutMs, signal);
  return { success: end.how === 'exit' && end.code === 0, why: describeEnd(end), exit: exitOf(end) };
}

export class VrrpScriptRunner {
  private counter: ScriptCounter;
  private timer: NodeJS.Timeout | null = null;
  private readonly abort = new AbortController();
  private stopped = false;
  private running = false;

  constructor(
    readonly script: VrrpScript,
    private readonly host: ScriptHost,
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
    const r = await runScriptOnce(this.script, this.host, this.abort.signal);
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

  /** Stops the runs; a run in flight is ended with its whole process group. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
  }
}
