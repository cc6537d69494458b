/**
 * Test helpers for network namespaces: names carry the kt-nl tag plus a random part so test
 * files (and other engineers' tests) never collide; every namespace is deleted in cleanup.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadNativeAddon } from '../../src/native/index.js';

export const TAG = 'kt-nl';

/** Why namespace tests cannot run here, or null when they can. Printed by the skipping test. */
export function netnsUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'network namespace tests need root';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (ip) is not installed';
  }
  try {
    loadNativeAddon();
  } catch (err) {
    return `native addon unavailable: ${(err as Error).message}`;
  }
  return null;
}

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ip -n NS ARGS...` */
export function ipn(ns: string, ...args: string[]): string {
  return sh('ip', ['-n', ns, ...args]);
}

export function ipJson<T = unknown>(ns: string, ...args: string[]): T {
  return JSON.parse(sh('ip', ['-n', ns, '-j', ...args])) as T;
}

export class Namespaces {
  readonly names: string[] = [];
  private readonly suffix = randomBytes(3).toString('hex');

  /** Creates `kt-nl-<role>-<random>` with loopback up. */
  create(role: string): string {
    const name = `${TAG}-${role}-${this.suffix}`;
    sh('ip', ['netns', 'add', name]);
    this.names.push(name);
    ipn(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  deleteAll(): void {
    for (const name of this.names.splice(0)) {
      try {
        sh('ip', ['netns', 'del', name]);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Moves this test process into `ns` (what `ip netns exec` does for the network namespace);
 * returns a function that moves it back. Sockets opened in between live in `ns`.
 */
export function enterNamespace(ns: string): () => void {
  const addon = loadNativeAddon();
  const original = openSync('/proc/thread-self/ns/net', 'r');
  addon.enterNetworkNamespace(`/run/netns/${ns}`);
  return () => {
    addon.enterNetworkNamespace(`/proc/self/fd/${original}`);
    closeSync(original);
  };
}

export function namespaceExists(ns: string): boolean {
  return existsSync(`/run/netns/${ns}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
