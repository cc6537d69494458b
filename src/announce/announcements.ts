/**
 * One announcing process's bgp_announce routes: the checker's (`follow quorum`, through
 * `anycast_device`) or the VRRP child's (`follow vrrp`, through `vrrp_device`). Keeps the one
 * RouteAnnouncer the config asks for and applies what decide.ts computes; a stop withdraws,
 * then drains, before the caller removes VIPs and IPVS.
 */
import type { AnnounceFollow, BgpAnnounce, KeepalivedConfig } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import type { RouteNetlink } from '../netlink/index.js';
import { routeKey, type AnnouncedRoute } from './decide.js';
import { RouteAnnouncer } from './route-announcer.js';

/**
 * What a process computes from the block: decide.ts's quorumRoutes or vrrpRoutes, bound to its
 * state; `announced` holds the keys (network/length) of the prefixes announced now.
 */
export type RoutesOf = (announce: BgpAnnounce, announced: ReadonlySet<string>) => AnnouncedRoute[];

export class Announcements {
  private routes: RouteAnnouncer | null = null;
  private settings: string | null = null;
  private announce: BgpAnnounce | null = null;
  /** Draining for a stop: nothing is announced again, whatever the state says meanwhile. */
  private draining = false;

  constructor(
    private readonly rtnl: RouteNetlink,
    private readonly log: Logger,
    private readonly follows: AnnounceFollow['kind'],
    /** The anchor device's opener (RouteAnnouncerOptions.openAnchor); default a tun device. */
    private readonly openAnchor?: (name: string) => () => void,
  ) {}

  /** Follows a (new) config: opens, keeps or closes the announcer. */
  async configure(config: KeepalivedConfig): Promise<void> {
    const a = config.bgpAnnounce;
    const wanted = a && a.prefixes.some((p) => p.follow.kind === this.follows) ? a : null;
    const device = wanted ? (this.follows === 'quorum' ? wanted.anycastDevice : wanted.vrrpDevice) : '';
    const key = wanted ? `${device} ${wanted.table} ${wanted.routeProtocol}` : null;
    if (key !== this.settings) {
      await this.routes?.close();
      this.routes = wanted
        ? new RouteAnnouncer({ rtnl: this.rtnl, device, table: wanted.table, protocol: wanted.routeProtocol, log: this.log, openAnchor: this.openAnchor })
        : null;
      this.settings = key;
    }
    this.announce = wanted;
  }

  /** The state changed (or may have): route what it now calls for. */
  sync(routesOf: RoutesOf): void {
    if (this.routes && this.announce && !this.draining) void this.routes.set(routesOf(this.announce, this.announcedKeys()));
  }

  /**
   * At stop (`routesOf` announcing nothing any more): withdraws, then waits until the
   * upstream has moved the traffic before the prefixes stop being local and VIPs or IPVS go:
   * `drained(drainMs)` decides (the checker watches its IPVS counters), by default `drain`
   * seconds. No wait when nothing was announced.
   */
  async drain(routesOf: RoutesOf, drained: (minMs: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
    this.draining = true;
    if (!this.routes || !this.announce) return;
    await this.routes.settled();
    const had = this.routes.current().some((r) => r.kind === 'announce');
    await this.routes.set(routesOf(this.announce, this.announcedKeys()));
    if (!had) return;
    const started = Date.now();
    this.log.info({ drainMs: this.announce.drainMs }, 'bgp_announce: withdrawn; draining before the stop');
    await drained(this.announce.drainMs);
    this.log.info({ ms: Date.now() - started }, 'bgp_announce: drained');
  }

  private announcedKeys(): Set<string> {
    return new Set((this.routes?.current() ?? []).filter((r) => r.kind === 'announce').map(routeKey));
  }

  async close(): Promise<void> {
    await this.routes?.close();
    this.routes = null;
    this.settings = null;
  }
}
