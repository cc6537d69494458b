// A throwaway network namespace holding veth interfaces eth0..ethN (the names the keepalived
// samples use), for running `-t` of keepalived and of keepalived-ts against the same host
// view. Names carry the `kt-cfg` tag; remove() is safe to call twice.
import { execFileSync, spawnSync } from 'node:child_process';

export interface TestNs {
  name: string;
  /** Runs a command inside the namespace: exit status and both streams. */
  run(cmd: string, args: string[], timeoutMs?: number): { status: number; stdout: string; stderr: string };
  remove(): void;
}

/** Why namespaces cannot be used here, or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root: network namespaces need CAP_SYS_ADMIN';
  const ip = spawnSync('ip', ['netns', 'list']);
  if (ip.status !== 0) return '`ip netns` is not usable on this host';
  return null;
}

export function createNs(interfaces = 4): TestNs {
  const id = `${process.pid % 100000}`;
  const name = `kt-cfg-${id}`;
  const hostSide = (i: number) => `ktcfg${id}h${i}`;
  const ip = (...a: string[]) => execFileSync('ip', a, { stdio: 'pipe' });
  ip('netns', 'add', name);
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    for (let i = 0; i < interfaces; i++) {
      ip('link', 'add', hostSide(i), 'type', 'veth', 'peer', 'name', `eth${i}`, 'netns', name);
      ip('-n', name, 'link', 'set', `eth${i}`, 'up');
    }
  } catch (e) {
    spawnSync('ip', ['netns', 'del', name]);
    throw e;
  }
  let removed = false;
  return {
    name,
    run(cmd, args, timeoutMs = 20_000) {
      const r = spawnSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs });
      return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    remove() {
      if (removed) return;
      removed = true;
      // Deleting the namespace destroys the in-namespace veth ends and with them the pairs.
      spawnSync('ip', ['netns', 'del', name]);
      for (let i = 0; i < interfaces; i++) spawnSync('ip', ['link', 'del', hostSide(i)], { stdio: 'ignore' });
    },
  };
}
