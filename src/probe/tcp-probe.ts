/**
 * TCP_CHECK's connect probe through the native addon (native/tcp_probe.c): a non-blocking
 * connect whose completion is read in C, reported in batches. A target is registered once
 * and probed by id, so the scheduler's hot path is one call and no allocation per check.
 *
 * net.Socket costs more user-space CPU per connection than the kernel's own work (a stream,
 * an emitter, a libuv handle and a request per connection; bench/checker.mjs). The
 * addon is built by `npm ci` with the project's other addon; when it cannot be loaded,
 * `TcpProbes.shared()` is null and TCP_CHECK falls back to net.Socket.
 */
import { constants } from 'node:os';
import { ipv4ToBytes, ipv6ToBytes } from '../ipvs/model.js';
import { type ProbeAddon, loadProbeAddon } from '../native/index.js';
import type { CheckOutcome, Endpoint } from './outcome.js';

/** Receives the results of probes that were in flight (errno 0: connected). */
export interface ProbeSink {
  probeDone(token: number, errno: number): void;
}

/** connect() answers: in flight, or already decided. */
export const PROBE_IN_FLIGHT = -1;
export const PROBE_CONNECTED = 0;

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

const CONNECTED: CheckOutcome = Object.freeze({ up: true, reason: 'connected' });
const failures = new Map<number, CheckOutcome>();
const timeouts = new Map<number, CheckOutcome>();

/** The outcome of a finished probe; shared objects, so a check allocates nothing. */
export function probeOutcome(errno: number): CheckOutcome {
  if (errno === PROBE_CONNECTED) return CONNECTED;
  let o = failures.get(errno);
  if (!o) {
    o = Object.freeze({ up: false, reason: `${ERRNO_NAMES.get(errno) ?? `errno ${errno}`} connect` });
    failures.set(errno, o);
  }
  return o;
}

export function probeTimeout(ms: number): CheckOutcome {
  let o = timeouts.get(ms);
  if (!o) {
    o = Object.freeze({ up: false, reason: `connect timeout after ${ms} ms` });
    timeouts.set(ms, o);
  }
  return o;
}

let shared: TcpProbes | null | undefined;

export class TcpProbes {
  private readonly results = new Int32Array(2 * 512);
  private sinks: (ProbeSink | null)[] = [];
  private tokens = new Int32Array(1024);
  private readonly free: number[] = [];

  private constructor(private readonly addon: ProbeAddon) {
    addon.init(this.results, (count) => this.deliver(count));
  }

  /** The process's probe set, or null when the addon is not built here. */
  static shared(): TcpProbes | null {
    if (shared === undefined) {
      const addon = loadProbeAddon();
      try {
        shared = addon ? new TcpProbes(addon) : null;
      } catch {
        shared = null;
      }
    }
    return shared;
  }

  /** Registers where probes of `token` go; returns the id to probe with. */
  register(ep: Endpoint, sink: ProbeSink, token: number): number {
    const [host, zone = ''] = ep.host.split('%') as [string, string?];
    const addr = ep.family === 4 ? ipv4ToBytes(host) : ipv6ToBytes(host);
    const bindHost = ep.localAddress?.split('%')[0] ?? null;
    const bind = bindHost === null ? null : ep.family === 4 ? ipv4ToBytes(bindHost) : ipv6ToBytes(bindHost);
    const id = this.free.pop() ?? this.sinks.length;
    this.addon.target(id, ep.family, addr, ep.port, bind, ep.localPort ?? 0, zone);
    if (id === this.sinks.length) this.sinks.push(sink);
    else this.sinks[id] = sink;
    if (id >= this.tokens.length) {
      const t = new Int32Array(this.tokens.length * 2);
      t.set(this.tokens);
      this.tokens = t;
    }
    this.tokens[id] = token;
    return id;
  }

  /** PROBE_IN_FLIGHT (the sink hears later), PROBE_CONNECTED, or an errno. */
  connect(id: number): number {
    return this.addon.connect(id);
  }

  /** Abandon a probe in flight (its deadline passed): its sink hears nothing. */
  cancel(id: number): void {
    this.addon.cancel(id);
  }

  release(id: number): void {
    this.addon.release(id);
    this.sinks[id] = null;
    this.free.push(id);
  }

  inFlight(): number {
    return this.addon.inFlight();
  }

  /**
   * Deliver every probe that has already finished. Node runs timers before it polls for
   * I/O, so on a busy host a connect can be done but unread when its deadline comes: call
   * this before judging deadlines.
   */
  drain(): number {
    return this.addon.drain();
  }

  private deliver(count: number): void {
    const r = this.results;
    for (let k = 0; k < count; k++) {
      const id = r[2 * k]!;
      this.sinks[id]?.probeDone(this.tokens[id]!, r[2 * k + 1]!);
    }
  }
}

/** One probe as a promise (runTcpCheck): the scheduler's batched path without the batching. */
export function probeOnce(probes: TcpProbes, ep: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined = undefined; // set once the probe is sent; finish() may run first
    let id = -1;
    const finish = (o: CheckOutcome): void => {
      if (id < 0) return;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      probes.release(id);
      id = -1;
      resolve(o);
    };
    const onAbort = (): void => finish(Object.freeze({ up: false, reason: 'aborted' }));
    id = probes.register(ep, { probeDone: (_t, errno) => finish(probeOutcome(errno)) }, 0);
    if (signal?.aborted) return onAbort();
    const r = probes.connect(id);
    if (r !== PROBE_IN_FLIGHT) return finish(probeOutcome(r));
    timer = setTimeout(() => finish(probeTimeout(timeoutMs)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
