/**
 * bgp_announce `follow vrrp` for the VRRP engine (VRRP over L3): each instance's prefixes are
 * routed through the VRRP child's own device while the instance holds its VIPs, with the
 * priority in the metric (the MED), so the routing daemon announces the MASTER only and a
 * split brain prefers the higher priority. The decision is decide.ts's; this keeps the one
 * RouteAnnouncer the config asks for.
 */
import { vrrpRoutes, type InstanceAnnounceState } from '../announce/decide.js';
import { RouteAnnouncer } from '../announce/route-announcer.js';
import type { BgpAnnounce, KeepalivedConfig } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import type { RouteNetlink } from '../netlink/index.js';

const settingsKey = (a: BgpAnnounce): string => `${a.vrrpDevice} ${a.table} ${a.routeProtocol}`;

export class VrrpAnnouncements {
  private routes: RouteAnnouncer | null = null;
  private settings: string | null = null;
  private announce: BgpAnnounce | null = null;

  constructor(private readonly rtnl: RouteNetlink, private readonly log: Logger) {}

  /** Follows a (new) config: opens, keeps or closes the announcer. */
  async configure(config: KeepalivedConfig): Promise<void> {
    const a = config.bgpAnnounce;
    const wanted = a && a.prefixes.some((p) => p.follow.kind === 'vrrp') ? a : null;
    const key = wanted ? settingsKey(wanted) : null;
    if (key !== this.settings) {
      await this.routes?.close();
      this.routes = wanted ? new RouteAnnouncer({ rtnl: this.rtnl, device: wanted.vrrpDevice, table: wanted.table, protocol: wanted.routeProtocol, log: this.log }) : null;
      this.settings = key;
    }
    this.announce = wanted;
  }

  /** The instances' states changed (or may have): announce what they now call for. */
  sync(stateOf: (instance: string) => InstanceAnnounceState | undefined): void {
    if (!this.routes || !this.announce) return;
    void this.routes.set(vrrpRoutes(this.announce, stateOf));
  }

  /**
   * At stop, once the successors took over (`stateOf` announcing nothing): withdraws, then
   * waits `drain` so the upstream moves the traffic before the prefixes and VIPs go. No wait
   * when nothing was announced.
   */
  async drain(stateOf: (instance: string) => InstanceAnnounceState | undefined): Promise<void> {
    if (!this.routes || !this.announce) return;
    await this.routes.settled();
    const had = this.routes.current().some((r) => r.kind === 'announce');
    await this.routes.set(vrrpRoutes(this.announce, stateOf));
    if (had) await new Promise((r) => setTimeout(r, this.announce!.drainMs));
  }

  async close(): Promise<void> {
    await this.routes?.close();
    this.routes = null;
    this.settings = null;
  }
}
