/**
 * Real-kernel tests: boots ONE QEMU guest (test/kernel/vm.sh) for the whole batch, runs
 * every scenario in test/kernel/scenarios/ inside it (compiled JS from dist/, so run
 * `npm run build` first), then asserts each scenario's observations here on the host.
 *
 * The VM failing to start fails this file loudly. KEEPALIVED_TS_SKIP_VM=1 skips it instead,
 * saying so: for machines that cannot run QEMU.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from './scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const project = join(here, '..', '..');
const runner = join(project, 'dist', 'test', 'kernel', 'guest-runner.js');
const allScenarios = readdirSync(join(here, 'scenarios'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
// KERNEL_SCENARIOS=a,b runs only those (a development loop); the default is all of them
const only = process.env.KERNEL_SCENARIOS?.split(',').filter(Boolean);
const scenarioNames = only ? allScenarios.filter((n) => only.includes(n)) : allScenarios;
if (only)
  console.warn(
    `test/kernel: KERNEL_SCENARIOS is set: running only ${scenarioNames.join(', ')}; not run: ${allScenarios.filter((n) => !only.includes(n)).join(', ') || 'none'}`,
  );
const skip = process.env.KEEPALIVED_TS_SKIP_VM === '1';
if (skip) console.warn('test/kernel: KEEPALIVED_TS_SKIP_VM=1 is set: the real-kernel IPVS tests are SKIPPED');

// boot + node start, then about 150 s per scenario (a hung one is cut at 300 s in the guest),
// more for the few that start several daemons; KERNEL_VM_TIMEOUT (seconds) overrides
// (at least 400 s: a lone daemon scenario needs more than one share on a loaded host)
/** The first image build (two mmdebstrap bases, npm and node-gyp in a chroot) on a loaded host. */
const IMAGE_BUILD_TIMEOUT_S = Number(process.env.KT_IMAGE_BUILD_TIMEOUT ?? 1800);
// (the container scenario allows itself 840 s: podman commands take 10-40 s each in the guest,
// and each of its two daemon starts may wait through the watchdog's start backoff)
const SCENARIO_BUDGET_S: Record<string, number> = { 'scale-out': 1600, container: 900, systemd: 600, 'plan-ipvs': 300, ipvlan: 420 };
/**
 * Scenarios that need systemd as PID 1 run in a second boot of their own (vm.sh -s): the
 * batch's boot keeps the shell as PID 1, which every other scenario relies on (no units,
 * no journald in their way).
 */
const SYSTEMD_BOOT = new Set(['systemd']);
const boots = [
  { init: 'sh' as const, names: scenarioNames.filter((n) => !SYSTEMD_BOOT.has(n)) },
  { init: 'systemd' as const, names: scenarioNames.filter((n) => SYSTEMD_BOOT.has(n)) },
].filter((b) => b.names.length > 0);
const bootTimeoutS = (names: string[]) =>
  Number(process.env.KERNEL_VM_TIMEOUT ?? Math.max(400, 60 + names.reduce((sum, n) => sum + (SCENARIO_BUDGET_S[n] ?? 150), 0)));
const VM_TIMEOUT_S = boots.reduce((sum, b) => sum + bootTimeoutS(b.names), 0);

describe.skipIf(skip)('real kernel (QEMU guest)', () => {
  const results = new Map<string, ScenarioResult>();
  let workDir = '';
  let vmOutput = '';

  // The container scenario runs the image the suite builds here (no registry), read by the
  // guest straight from this host's podman store; the image is cached by its inputs, so only
  // the first run pays for the build.
  let image = '';
  beforeAll(
    async () => {
      if (!scenarioNames.includes('container')) return;
      const built = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(join(here, 'build-image.sh'), { cwd: project, maxBuffer: 16 << 20, timeout: IMAGE_BUILD_TIMEOUT_S * 1000 }, (e, out, err) =>
          resolve({ code: e ? 1 : 0, out, err }),
        );
      });
      if (built.code !== 0) throw new Error(`test/kernel/build-image.sh failed:\n${built.err}`);
      image = built.out.trim().split('\n').at(-1)!;
    },
    IMAGE_BUILD_TIMEOUT_S * 1000 + 30_000,
  );

  beforeAll(
    async () => {
      if (!existsSync(runner)) throw new Error(`${runner} is missing: run \`npm run build\` first (the guest runs compiled JS)`);
      mkdirSync(join(project, '.cache'), { recursive: true });
      workDir = mkdtempSync(join(project, '.cache', 'kt-ipvs-vm-'));
      for (const boot of boots) {
        const resultsFile = join(workDir, `results-${boot.init}.json`);
        const { code, output } = await runVm(['node', runner, resultsFile], boot.names, boot.init, image);
        vmOutput += output;
        if (!existsSync(resultsFile)) {
          throw new Error(
            `the VM (PID 1: ${boot.init}) produced no results (vm.sh exit ${code}; 124 = timeout, 125 = VM could not start). ` +
              `Set KEEPALIVED_TS_SKIP_VM=1 to skip on machines without QEMU. Output:\n${output}`,
          );
        }
        const list = JSON.parse(readFileSync(resultsFile, 'utf8')) as ScenarioResult[];
        for (const r of list) results.set(r.name, r);
        console.log(`test/kernel (PID 1: ${boot.init}): ${list.map((r) => `${r.name} ${r.ms} ms`).join(', ')}`);
        // scenarios print their measured figures as `NAME: FIGURE ...` lines on the guest console
        const figures = output.split('\n').filter((l) => / FIGURE /.test(l));
        if (figures.length) console.log(`test/kernel figures:\n${figures.join('\n')}`);
        if (code !== 0) console.warn(`vm.sh exited ${code}; output:\n${output}`);
      }
    },
    (VM_TIMEOUT_S + 30) * 1000,
  );

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it.each(scenarioNames)('%s', (name) => {
    const r = results.get(name);
    if (!r) throw new Error(`scenario ${name} did not report (it hung or the runner died). VM output:\n${vmOutput}`);
    if (r.error) throw new Error(`scenario ${name} threw in the guest: ${r.error}\nlog:\n${r.log.join('\n')}`);
    expect(r.observations.length, `scenario ${name} made no observations`).toBeGreaterThan(0);
    for (const o of r.observations) expect.soft(o.actual, `${name}: ${o.label}`).toEqual(o.expected);
  });
});

/** `image` is build-image.sh's answer, "STORE NAME", given to the container scenario. */
function runVm(command: string[], names: string[], init: 'sh' | 'systemd', image: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const [store, name] = image.split(' ');
    const envs = image ? ['-e', `KT_IMAGE_STORE=${store}`, '-e', `KT_IMAGE=${name}`] : [];
    const args = [
      '-t',
      String(bootTimeoutS(names)),
      ...(init === 'systemd' ? ['-s'] : []),
      ...envs,
      '-e',
      `KERNEL_SCENARIOS=${names.join(',')}`,
      '--',
      ...command,
    ];
    const child = spawn(join(here, 'vm.sh'), args, { cwd: project });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', (e) => resolve({ code: 125, output: `${output}\ncannot run vm.sh: ${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 125, output }));
  });
}
