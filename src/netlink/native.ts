/**
 * Loads the project's small N-API addon (native/keepalived_native.c, built by node-gyp into
 * build/Release at install time). It is found by walking up from this file, so the same code
 * works from src/ (vitest) and from dist/src/ (the built daemon).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeAddon {
  /** Sends one complete Ethernet frame (destination MAC first) on `ifindex`; returns bytes sent. */
  sendFrame(ifindex: number, frame: Buffer): number;
  /** Moves the calling thread into the network namespace behind `path` (e.g. /run/netns/NAME). */
  enterNetworkNamespace(path: string): void;
}

const ADDON_RELATIVE_PATH = join('build', 'Release', 'keepalived_native.node');

/** The directory holding build/Release/keepalived_native.node, searched upward from `start`. */
export function findAddonPath(start: string, exists: (p: string) => boolean = existsSync): string | null {
  let dir = start;
  for (;;) {
    const candidate = join(dir, ADDON_RELATIVE_PATH);
    if (exists(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

let cached: NativeAddon | null = null;

export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const path = findAddonPath(here);
  if (!path) {
    throw new Error(
      `native addon ${ADDON_RELATIVE_PATH} not found above ${here}: run \`npm rebuild\` or \`npm ci\` (needs make and a C compiler)`,
    );
  }
  cached = createRequire(import.meta.url)(path) as NativeAddon;
  return cached;
}

/** Enters /run/netns/NAME (as `ip netns exec NAME` would, for the network namespace only). */
export function enterNamedNetworkNamespace(name: string): void {
  loadNativeAddon().enterNetworkNamespace(join('/run/netns', name));
}
