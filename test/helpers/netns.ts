// Network namespaces for multi-host tests: create, run commands inside, always clean up.
// Every name carries the caller's tag so parallel test files never collide.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function netnsAvailable(): string | null {
  try {
    sh('ip netns add kt-probe-$$ && ip netns del kt-probe-$$');
    return null;
  } catch (err) {
    return `network namespaces unavailable: ${(err as Error).message.split('\n')[0]}`;
  }
}

export class NetnsLab {
  readonly namespaces: string[] = [];
  private readonly procs: ChildProcess[] = [];

  constructor(readonly tag: string) {}

  ns(name: string): string {
    const full = `${this.tag}-${name}`;
    sh(`ip netns del ${full} 2>/dev/null; ip netns add ${full} && ip -n ${full} link set lo up`);
    this.namespaces.push(full);
    return full;
  }

  /** A veth pair between two namespaces, interfaces named as given inside each. */
  link(nsA: string, ifA: string, nsB: string, ifB: string): void {
    const tmpA = `${this.tag}a${this.namespaces.length}`.slice(0, 15);
    const tmpB = `${this.tag}b${this.namespaces.length}`.slice(0, 15);
    sh(`ip link add ${tmpA} type veth peer name ${tmpB}`);
    sh(`ip link set ${tmpA} netns ${nsA} && ip link set ${tmpB} netns ${nsB}`);
    sh(`ip -n ${nsA} link set ${tmpA} name ${ifA} && ip -n ${nsB} link set ${tmpB} name ${ifB}`);
    sh(`ip -n ${nsA} link set ${ifA} up && ip -n ${nsB} link set ${ifB} up`);
  }

  /** A bridge living in its own namespace, with a veth port to each given namespace. */
  bridge(name: string, members: { ns: string; ifname: string }[]): string {
    const brNs = this.ns(name);
    sh(`ip -n ${brNs} link add br0 type bridge && ip -n ${brNs} link set br0 up`);
    members.forEach((m, i) => {
      this.link(m.ns, m.ifname, brNs, `p${i}`);
      sh(`ip -n ${brNs} link set p${i} master br0`);
    });
    return brNs;
  }

  exec(ns: string, cmd: string): string {
    return sh(`ip netns exec ${ns} sh -c ${JSON.stringify(cmd)}`);
  }

  /** A long-running process inside a namespace; killed in cleanup(). */
  spawn(ns: string, argv: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(p);
    return p;
  }

  cleanup(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) {
      try {
        sh(`ip netns pids ${ns} | xargs -r kill -9; ip netns del ${ns}`);
      } catch {
        /* already gone */
      }
    }
    this.namespaces.length = 0;
  }
}

/** Our daemon's --log-json line with its fields (and a keepalived-worded line's `event`) lifted to the top. */
export function flatLogLine(o: unknown): unknown {
  const line = o as { msg?: string; data?: Record<string, unknown> & { event?: Record<string, unknown> } };
  return { msg: line.msg, ...line.data, ...line.data?.event };
}

/** Collects a child's stdout as JSON lines (each passed through `map`). */
export function jsonLines(p: ChildProcess, map: (o: unknown) => unknown = (o) => o): unknown[] {
  const out: unknown[] = [];
  let buf = '';
  p.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        out.push(map(JSON.parse(line)));
      } catch {
        /* not a JSON line */
      }
    }
  });
  return out;
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
