// `keepalived-ts --plan -f FILE [-p PIDFILE]`: asks the running daemon, over its root-only plan
// socket (src/daemon/plan-server.ts), what a HUP with FILE would change, and prints it.
// Exit status: 0 nothing would change, 1 changes, 2 the file would be refused or the daemon
// cannot be asked.
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { planChanges, planSocketPath, type ChildPlan, type IpvsPlan, type ReloadPlan, type VrrpInstancePlan } from '../daemon/plan-server.js';

export const PLAN_NOTHING = 0;
export const PLAN_CHANGES = 1;
export const PLAN_ERROR = 2;

function instanceLines(p: VrrpInstancePlan): string[] {
  const head = `  ${p.change === 'added' ? '+' : p.change === 'removed' ? '-' : '~'} ${p.name} (${p.interface}, VRID ${p.vrid}, IPv${p.family})`;
  const lines = [p.state === '-' ? `${head} ${p.change}` : `${head} ${p.change}, now ${p.state}`];
  if (p.fields.length) lines.push(`      changes: ${p.fields.join(', ')}`);
  const where = p.vipsOnHost ? 'on the host now' : 'config only: not on the host in this state';
  if (p.vipsAdded.length) lines.push(`      VIPs added (${where}): ${p.vipsAdded.join(' ')}`);
  if (p.vipsRemoved.length) lines.push(`      VIPs removed (${where}): ${p.vipsRemoved.join(' ')}`);
  if (p.stateChange) lines.push(`      state: ${p.stateChange}`);
  return lines;
}

function ipvsLines(p: IpvsPlan): string[] {
  const groups: [string, string[]][] = [
    ['services added', p.servicesAdded],
    ['services removed', p.servicesRemoved],
    ['services edited', p.servicesEdited],
    ['destinations added', p.destinationsAdded],
    ['destinations removed', p.destinationsRemoved],
    ['destinations edited', p.destinationsEdited],
  ];
  const lines = groups.filter(([, xs]) => xs.length).flatMap(([what, xs]) => [`  ${what}:`, ...xs.map((x) => `    ${x}`)]);
  if (p.writes.length) lines.push(`  netlink writes (${p.writes.length}):`, ...p.writes.map((w) => `    ${w}`));
  return lines;
}

function childLines(c: ChildPlan): string[] {
  if (!c.ok) return [`${c.role === 'vrrp' ? 'VRRP' : 'IPVS'}: no plan: ${c.message}`];
  if (c.role === 'vrrp') return c.instances.length ? ['VRRP:', ...c.instances.flatMap(instanceLines)] : ['VRRP: no change'];
  return c.ipvs.writes.length ? ['IPVS:', ...ipvsLines(c.ipvs)] : ['IPVS: no change'];
}

/** The plan as the operator reads it. */
export function formatPlan(p: ReloadPlan): string {
  if (!p.ok) return [...p.errors, `keepalived-ts: ${p.file}: the daemon would refuse this file; nothing would change`].join('\n') + '\n';
  const lines = [...p.warnings, `Reload plan for ${p.file} (nothing has been changed):`];
  for (const c of p.children) lines.push(...childLines(c));
  lines.push(...p.notes.map((n) => `note: ${n}`));
  lines.push(planChanges(p) ? 'A reload with this file would change the above.' : 'A reload with this file would change nothing.');
  return lines.join('\n') + '\n';
}

export function planExitCode(p: ReloadPlan): number {
  if (!p.ok || p.children.some((c) => !c.ok)) return PLAN_ERROR;
  return planChanges(p) ? PLAN_CHANGES : PLAN_NOTHING;
}

/** Sends the request, reads the one-line answer. */
export function askDaemon(socketPath: string, file: string, timeoutMs = 120_000): Promise<ReloadPlan> {
  return new Promise((resolvePlan, reject) => {
    const sock = connect(socketPath);
    let buf = '';
    sock.setEncoding('utf8');
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    sock.on('connect', () => sock.write(JSON.stringify({ file }) + '\n'));
    sock.on('data', (d: string) => (buf += d));
    sock.on('error', reject);
    sock.on('end', () => {
      try {
        resolvePlan(JSON.parse(buf) as ReloadPlan);
      } catch {
        reject(new Error('the daemon sent an answer that is not a plan'));
      }
    });
  });
}

export async function runPlan(o: { useFile: string; pidFile: string }): Promise<number> {
  const socketPath = planSocketPath(o.pidFile);
  let plan: ReloadPlan;
  try {
    plan = await askDaemon(socketPath, resolve(o.useFile));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
        ? 'no keepalived-ts daemon answers there (is it running, with this -p?)'
        : e.code === 'EACCES'
          ? 'permission denied (the plan socket is root-only)'
          : e.message;
    process.stderr.write(`keepalived-ts: --plan: ${socketPath}: ${why}\n`);
    return PLAN_ERROR;
  }
  (plan.ok ? process.stdout : process.stderr).write(formatPlan(plan));
  return planExitCode(plan);
}
