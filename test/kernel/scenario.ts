/**
 * The contract of a guest scenario. A scenario is one file in test/kernel/scenarios/ whose
 * default export is a Scenario; it runs inside the VM (compiled, from dist/), records
 * observations with `check`, and the host test asserts each observation with vitest, so
 * failures show a proper diff. Scenarios run one after another in one VM: each cleans up
 * what it creates (namespaces, IPVS table) in a finally block.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Observation {
  label: string;
  actual: unknown;
  expected: unknown;
}

export interface ScenarioResult {
  name: string;
  observations: Observation[];
  /** Set when the scenario threw: the host reports it as a failure. */
  error: string | null;
  log: string[];
  ms: number;
}

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ScenarioContext {
  /** Record that `actual` should deep-equal `expected` (the host asserts it). */
  check(label: string, actual: unknown, expected: unknown): void;
  /** Run a shell command line; never throws on a non-zero exit. */
  sh(command: string): Promise<ShellResult>;
  /** Like sh, but throws with the output when the command fails. */
  shOk(command: string): Promise<string>;
  log(message: string): void;
}

export interface Scenario {
  /** Unique; also the file name without extension. */
  name: string;
  /** Guest-side time limit (default 300 s under TCG): one stuck scenario must not starve the others. */
  timeoutMs?: number;
  run(ctx: ScenarioContext): Promise<void>;
}

export function sh(command: string): Promise<ShellResult> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** JSON with bigint counters as decimal strings (stats are u64). */
export const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A file's text, or '' while it does not exist (a log or pid file not written yet). */
export const readIfExists = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');

/** Whether the process a pid file names is alive. */
export function pidFileAlive(file: string): boolean {
  const pid = Number(readIfExists(file).trim());
  return pid > 0 && processAlive(pid);
}

/** Whether process `pid` exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A progress line: in the scenario's log, and on the guest console as `NAME: ...` (FIGURE lines reach the host's output). */
export function scenarioProgress(ctx: ScenarioContext, name: string, m: string): void {
  ctx.log(m);
  console.log(`${name}: ${m}`);
}
