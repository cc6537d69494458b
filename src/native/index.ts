/**
 * Every call into the project's C code goes through here: the two small N-API addons that
 * node-gyp builds into build/Release at install time (native/README.md says why each exists).
 *  - keepalived_native.node: AF_PACKET frames, setns(), a recvmmsg() raw IP receiver with its socket filter,
 *    malloc_trim() and mallopt();
 *  - keepalived_probe.node: TCP_CHECK's connect probe.
 * The addons are found by walking up from this file, so the same code works from src/
 * (vitest) and from dist/src/ (the built daemon).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeAddon {
  /** An AF_PACKET socket for sending (in the calling thread's namespace); keep it open. */
  openPacketSocket(): number;
  /** Sends one complete Ethernet frame (destination MAC first) on `ifindex`; returns bytes sent. */
  sendFrame(fd: number, ifindex: number, frame: Buffer): number;
  /** Moves the calling thread into the network namespace behind `path` (e.g. /run/netns/NAME). */
  enterNetworkNamespace(path: string): void;
  /** A non-blocking raw IP socket that reports hop limit/TTL and packet info; returns its fd. */
  openRawSocket(family: 4 | 6, protocol: number): number;
  setSocketOption(fd: number, level: number, name: number, value: number | Buffer): void;
  /**
   * One recvmmsg() of up to `max` datagrams (at most 64): the i-th into
   * `slots[i * slotSize ...]`, its facts into the i-th BATCH_RECORD of `meta`. Returns how
   * many arrived; 0 when nothing is queued.
   */
  receiveBatch(fd: number, slots: Buffer, slotSize: number, meta: Buffer, max: number): number;
  /** SO_ATTACH_FILTER: `program` is classic BPF, struct sock_filter after struct sock_filter. */
  attachFilter(fd: number, program: Buffer): void;
  /** Calls `callback(status)` whenever `fd` is readable (status < 0: a libuv error). */
  watchReadable(fd: number, callback: (status: number) => void): NativeWatch;
  stopWatching(watch: NativeWatch): void;
  closeSocket(fd: number): void;
  /** malloc_trim(0): hands memory malloc holds free back to the kernel; true when some was. */
  releaseFreedMemory(): boolean;
  keepLargeBlocksApart(): boolean;
  /** Catches `signum` (sigaction); returns the pipe its number arrives on, one byte each. */
  catchSignal(signum: number): number;
  /** Creates the tun device `name` (IFF_TUN | IFF_NO_PI) held by the returned fd: it goes when the fd closes. */
  openTunDevice(name: string): number;
}

/**
 * receiveBatch's record per datagram, host byte order: int32 length, int32 flags (1:
 * truncated), int32 hop limit / TTL (-1: absent), int32 arrival ifindex (0: absent), then
 * the source and the destination address, 16 bytes each (an IPv4 one in the first 4).
 */
export const BATCH_RECORD = { size: 48, source: 16, destination: 32 } as const;
/** The most datagrams one receiveBatch call takes. */
export const BATCH_MAX = 64;

declare const nativeWatchBrand: unique symbol;
export interface NativeWatch {
  readonly [nativeWatchBrand]: true;
}

/** TCP_CHECK's connect probe (native/tcp_probe.c): targets registered by id, results in batches. */
export interface ProbeAddon {
  init(results: Int32Array, onResults: (count: number) => void): void;
  target(id: number, family: 4 | 6, addr: Buffer, port: number, bindAddr: Buffer | null, bindPort: number, scopeIf: string): void;
  connect(id: number): number;
  cancel(id: number): void;
  release(id: number): void;
  inFlight(): number;
  drain(): number;
}

const ADDON_DIR = join('build', 'Release');
const NATIVE_ADDON = 'keepalived_native.node';
const PROBE_ADDON = 'keepalived_probe.node';

/** build/Release/`file` in `start` or the nearest directory above it that has one. */
export function findAddonPath(start: string, exists: (p: string) => boolean = existsSync, file = NATIVE_ADDON): string | null {
  let dir = start;
  for (;;) {
    const candidate = join(dir, ADDON_DIR, file);
    if (exists(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
let cached: NativeAddon | null = null;

export function loadNativeAddon(): NativeAddon {
  if (cached) return cached;
  const path = findAddonPath(here);
  if (!path) {
    throw new Error(`native addon ${join(ADDON_DIR, NATIVE_ADDON)} not found above ${here}: run \`npm rebuild\` or \`npm ci\` (needs make and a C compiler)`);
  }
  cached = createRequire(import.meta.url)(path) as NativeAddon;
  return cached;
}

/** The probe addon, or null where it is not built (TCP_CHECK then connects with net.Socket). */
export function loadProbeAddon(): ProbeAddon | null {
  try {
    const path = findAddonPath(here, existsSync, PROBE_ADDON);
    return path ? (createRequire(import.meta.url)(path) as ProbeAddon) : null;
  } catch {
    return null;
  }
}

/** Enters /run/netns/NAME (as `ip netns exec NAME` would, for the network namespace only). */
export function enterNamedNetworkNamespace(name: string): void {
  loadNativeAddon().enterNetworkNamespace(join('/run/netns', name));
}

/**
 * After a burst of allocation (a config load, a first reconcile): returns what malloc keeps
 * free to the kernel. glibc keeps freed chunks that sit below live ones resident; V8's
 * parser and compiler zones make many. Best effort: false when the addon is not built here.
 */
export function releaseFreedMemory(): boolean {
  return bestEffort((addon) => addon.releaseFreedMemory());
}

/** How long after a process starts its start-up burst is over: the load, the first adverts or reconcile, the link's first messages. */
const START_SETTLED_MS = 10_000;

/**
 * Once, when a process's start has settled: what malloc kept free from the allocation after
 * the last releaseFreedMemory (sockets, the parent link, first adverts and log lines) goes
 * back to the kernel too. The timer does not keep the process alive.
 */
export function releaseFreedMemoryOnceStarted(): void {
  setTimeout(releaseFreedMemory, START_SETTLED_MS).unref();
}

/**
 * Before a process's first config load: malloc gives every block of 128 KiB or more its own
 * mapping, returned to the kernel when freed, instead of raising that threshold after each
 * large free (glibc's default) and then placing long-lived large blocks among small ones,
 * where the pages they free stay resident. Best effort: false when the addon is not built.
 */
export function keepLargeBlocksApart(): boolean {
  return bestEffort((addon) => addon.keepLargeBlocksApart());
}

/** A memory tuning call: false, not an error, where the addon is not built. */
function bestEffort(call: (addon: NativeAddon) => boolean): boolean {
  try {
    return call(loadNativeAddon());
  } catch {
    return false;
  }
}

/** A tun device that lives exactly as long as this process holds it; returns its closer. */
export function openTunDevice(name: string): () => void {
  const addon = loadNativeAddon();
  const fd = addon.openTunDevice(name);
  return () => addon.closeSocket(fd);
}
