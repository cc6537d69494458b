/**
 * Runs inside the VM: imports every scenario in ./scenarios (or those named in
 * KERNEL_SCENARIOS, comma separated), runs them in turn, and writes all results as JSON
 * to the file given as the first argument, for kernel.test.ts to assert on the host.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Scenario, type ScenarioContext, type ScenarioResult, sh, toJson } from './scenario.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: guest-runner.js RESULTS.json');
  process.exit(2);
}
const DEFAULT_TIMEOUT_MS = 300_000;
const dir = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const wanted = process.env.KERNEL_SCENARIOS?.split(',').filter(Boolean);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .sort()
  .filter((f) => !wanted || wanted.includes(f.replace(/\.js$/, '')));

/**
 * After a scenario that failed or timed out (its own cleanup may never have run): no
 * daemon of ours or keepalived's, no IPVS table, no namespace is left to disturb the next
 * scenario (a leftover checker reconciles the table another scenario is writing).
 */
async function leaveNothingBehind(result: ScenarioResult): Promise<void> {
  const steps = [
    // not this runner (dist/test/): the daemons (bin/keepalived-ts, dist/bundle/ or dist/src/ children), keepalived, FRR and BIRD
    `for p in $(pgrep -f 'bin/keepalived-ts|dist/bundle/|dist/src/|/usr/sbin/keepalived|/usr/sbin/bird|/usr/lib/frr/'); do [ "$p" = ${process.pid} ] || kill -9 "$p" 2>/dev/null; done; true`,
    'ipvsadm -C 2>/dev/null || true',
    'ip -all netns delete 2>/dev/null || true',
  ];
  for (const c of steps) await sh(c);
  result.log.push('after the failure: leftover daemons killed, IPVS table flushed, namespaces deleted');
}

const results: ScenarioResult[] = [];
for (const file of files) {
  const started = Date.now();
  const result: ScenarioResult = { name: file.replace(/\.js$/, ''), observations: [], error: null, log: [], ms: 0 };
  const ctx: ScenarioContext = {
    check: (label, actual, expected) => {
      result.observations.push({ label, actual, expected });
    },
    sh,
    shOk: async (command) => {
      const r = await sh(command);
      if (r.code !== 0) throw new Error(`\`${command}\` exited ${r.code}: ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    log: (m) => {
      result.log.push(m);
    },
  };
  try {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: Scenario };
    const limit = mod.default.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      mod.default.run(ctx),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${limit} ms in the guest (set timeoutMs on the scenario if it needs longer)`)), limit);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (e) {
    result.error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
  }
  if (result.error) await leaveNothingBehind(result);
  result.ms = Date.now() - started;
  results.push(result);
  console.log(`kernel scenario ${result.name}: ${result.error ? 'ERROR' : `${result.observations.length} observations`} in ${result.ms} ms`);
  // written after each scenario so a later hang still leaves the earlier results
  writeFileSync(out, toJson(results));
}
