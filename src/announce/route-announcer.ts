/**
 * The thin I/O shell of bgp_announce: keeps the kernel's routes through this process's
 * anchor device equal to the routes decide.ts wants. FRR (`redistribute kernel` matching the
 * device) or BIRD (`protocol kernel` with `learn`) read the unicast ones from the table and
 * announce them; the local ones (table local, which neither reads) make the host answer.
 *
 * Why a device of our own: it is a tun device attached to a descriptor of this process, so
 * the kernel deletes it, and every route through it, the moment the process ends, however
 * it ends (kill -9, a crash, an OOM kill). A route written by a process that then died would
 * otherwise stay announced until someone removed it. Both daemons notice the device going
 * (FRR drops kernel routes whose interface is deleted, BIRD re-reads the table) and withdraw.
 *
 * Changes are applied one batch at a time; a batch adds before it deletes, so a metric
 * change never leaves the prefix unannounced in between. The kernel is read again before
 * each batch and every `repairIntervalMs`: a route removed by hand, or the device deleted
 * by hand, comes back.
 */
import type { Logger } from '../log/logger.js';
import { openTunDevice } from '../native/index.js';
import type { KernelRoute, RouteNetlink, RouteSpec } from '../netlink/index.js';
import { RTN_LOCAL, RTN_UNICAST, RT_TABLE_LOCAL } from '../netlink/index.js';
import { kernelMetric, routeChanges, routeKey, type AnnouncedRoute } from './decide.js';

export interface RouteAnnouncerOptions {
  rtnl: RouteNetlink;
  /** Name of the anchor device (`anycast_device` / `vrrp_device`). */
  device: string;
  table: number;
  protocol: number;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Opens the anchor; default: a tun device through the native addon. Returns a closer. */
  openAnchor?: (name: string) => () => void;
  repairIntervalMs?: number;
}

const DEFAULT_REPAIR_MS = 10_000;

export class RouteAnnouncer {
  private desired: AnnouncedRoute[] = [];
  private closeAnchor: (() => void) | null = null;
  private ifindex = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly repairTimer: NodeJS.Timeout;
  /** The routes the last successful batch left in the kernel. */
  private announced: AnnouncedRoute[] = [];

  constructor(private readonly opts: RouteAnnouncerOptions) {
    this.repairTimer = setInterval(() => this.kick(), opts.repairIntervalMs ?? DEFAULT_REPAIR_MS);
    this.repairTimer.unref();
  }

  /** The routes to announce from now on (the whole set, not a change). */
  set(routes: readonly AnnouncedRoute[]): Promise<void> {
    this.desired = [...routes];
    // the same set again (a state that did not move): the repair timer still re-reads the kernel
    const same = routeChanges(this.desired, this.announced);
    if (same.add.length === 0 && same.remove.length === 0 && !this.running) return Promise.resolve();
    this.kick();
    return this.settled();
  }

  /** Resolves once the kernel holds the routes last set (or the attempt failed and was logged). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** What is in the kernel through our device, as last written. */
  current(): AnnouncedRoute[] {
    return [...this.announced];
  }

  /** Withdraws everything and removes the device. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.set([]);
    this.closed = true;
    clearInterval(this.repairTimer);
    this.closeAnchor?.();
    this.closeAnchor = null;
  }

  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.reconcile(this.desired);
      } catch (err) {
        this.opts.log.error({ device: this.opts.device, err: (err as Error).message }, 'bgp_announce: could not update the announced routes; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        if (!this.closed) this.again = true;
      }
    } while (this.again && !this.closed);
  }

  private async reconcile(desired: readonly AnnouncedRoute[]): Promise<void> {
    if (desired.length === 0 && this.closeAnchor === null) return; // nothing announced, nothing to open
    await this.ensureAnchor();
    const actual = await this.kernelRoutes();
    const { add, remove } = routeChanges(
      desired.map((r) => ({ ...r, metric: kernelMetric(r) })),
      actual,
    );
    for (const r of add) {
      await this.opts.rtnl.addRoute(this.spec(r));
      if (r.kind === 'announce') this.opts.log.info({ prefix: routeKey(r), metric: r.metric, device: this.opts.device }, 'bgp_announce: announcing');
    }
    for (const r of remove) {
      await this.opts.rtnl.deleteRoute(this.spec(r));
      const stays = desired.some((d) => d.kind === r.kind && routeKey(d) === routeKey(r));
      if (!stays && r.kind === 'announce') this.opts.log.info({ prefix: routeKey(r), device: this.opts.device }, 'bgp_announce: withdrawn');
    }
    this.announced = [...desired];
  }

  /** Opens the anchor device, or opens it again if it was deleted behind our back. */
  private async ensureAnchor(): Promise<void> {
    const link = await this.opts.rtnl.getLink(this.opts.device);
    if (this.closeAnchor && link && link.index === this.ifindex) return;
    if (this.closeAnchor) {
      this.opts.log.warn({ device: this.opts.device }, 'bgp_announce: the anchor device was removed; creating it again');
      this.closeAnchor();
      this.closeAnchor = null;
    }
    this.closeAnchor = (this.opts.openAnchor ?? openTunDevice)(this.opts.device);
    const created = await this.opts.rtnl.getLink(this.opts.device);
    if (!created) throw new Error(`anchor device ${this.opts.device} did not appear`);
    this.ifindex = created.index;
    await this.opts.rtnl.setLinkUp(created.index, true);
  }

  private async kernelRoutes(): Promise<AnnouncedRoute[]> {
    const ours = (r: KernelRoute) => r.ifindex === this.ifindex && r.protocol === this.opts.protocol;
    const out: AnnouncedRoute[] = [];
    for (const family of [4, 6] as const) {
      for (const table of new Set([this.opts.table, RT_TABLE_LOCAL])) {
        for (const r of await this.opts.rtnl.listRoutes(family, table)) {
          const kind = r.type === RTN_LOCAL && table === RT_TABLE_LOCAL ? 'local' : r.type === RTN_UNICAST && table === this.opts.table ? 'announce' : null;
          if (kind && ours(r)) out.push({ kind, family: r.family, network: r.destination, length: r.length, metric: r.metric });
        }
      }
    }
    return out;
  }

  private spec(r: AnnouncedRoute): RouteSpec {
    const local = r.kind === 'local';
    return {
      type: local ? RTN_LOCAL : RTN_UNICAST,
      family: r.family,
      destination: r.network,
      length: r.length,
      metric: kernelMetric(r),
      ifindex: this.ifindex,
      table: local ? RT_TABLE_LOCAL : this.opts.table,
      protocol: this.opts.protocol,
    };
  }
}
