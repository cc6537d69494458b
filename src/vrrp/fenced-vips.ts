// The VIPs with the VRRP firewall around them (keepalived's accept mode): before an instance's
// VIPs are added its drop rules go in, and they come out once the VIPs are removed, so a
// MASTER without accept mode never answers on a VIP, not even for the moment in between.
// The rules are what src/firewall computes from the VIPs each instance holds, and from the
// use_vmac macvlans whose IGMP/MLD reports it sends out by their base interface.
import type { KeepalivedConfig, VirtualIp, VrrpFirewallSettings, VrrpInstance } from '../config/model.js';
import type { FirewallPort } from '../firewall/nftables.js';
import { firewallRules, type VmacLink } from '../firewall/rules.js';
import type { Logger } from '../log/logger.js';
import type { AddressSpec } from '../netlink/index.js';
import type { VipPort } from './engine-ports.js';
import { vipKey } from './vips.js';

export class FencedVips implements VipPort {
  /** By instance name: its config, and the VIPs it holds by vipKey. */
  private readonly held = new Map<string, { instance: VrrpInstance; vips: Map<string, VirtualIp> }>();
  private settings: VrrpFirewallSettings | null;
  /** use_vmac macvlans by name, with the families whose tables steer them. */
  private readonly vmacs = new Map<string, { link: VmacLink; families: readonly (4 | 6)[] }>();
  private closed = false;

  constructor(
    private readonly inner: VipPort,
    private readonly firewall: FirewallPort,
    config: KeepalivedConfig,
    private readonly log: Logger,
  ) {
    this.settings = config.globalDefs.vrrpFirewall;
  }

  async add(inst: VrrpInstance, vips: readonly VirtualIp[]): Promise<void> {
    this.hold(inst, vips, true);
    await this.sync();
    await this.inner.add(inst, vips);
  }

  async remove(inst: VrrpInstance, vips: readonly VirtualIp[]): Promise<void> {
    await this.inner.remove(inst, vips);
    this.hold(inst, vips, false);
    await this.sync();
  }

  present(inst: VrrpInstance): Promise<VirtualIp[]> {
    return this.inner.present(inst);
  }

  specs(inst: VrrpInstance, vips: readonly VirtualIp[]): AddressSpec[] {
    return this.inner.specs(inst, vips);
  }

  /** VIPs found on the host at start, kept for now: fenced like added ones. */
  adopt(inst: VrrpInstance, vips: readonly VirtualIp[]): Promise<void> {
    this.hold(inst, vips, true);
    return this.sync();
  }

  /**
   * A new config: the firewall settings, and each instance's accept mode as it now reads
   * (VIPs a reload adds or removes come through add/remove). Also the start's first sync,
   * which replaces tables an earlier run left.
   */
  configure(config: KeepalivedConfig): Promise<void> {
    this.settings = config.globalDefs.vrrpFirewall;
    const byName = new Map(config.vrrpInstances.map((i) => [i.name, i]));
    for (const [name, h] of this.held) {
      const next = byName.get(name);
      if (next) h.instance = next;
    }
    return this.sync();
  }

  /** A use_vmac macvlan made or taken over (keepalived firewall_add_vmac). */
  addVmac(link: VmacLink, families: readonly (4 | 6)[]): Promise<void> {
    if (!families.length) return Promise.resolve();
    this.vmacs.set(link.vmac, { link, families });
    return this.sync();
  }

  /** Before the macvlan is deleted: its element goes while its name still resolves. */
  removeVmac(name: string): Promise<void> {
    if (!this.vmacs.delete(name)) return Promise.resolve();
    return this.sync();
  }

  /** At stop: the tables go (keepalived deletes them even when -V keeps the VIPs). */
  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.firewall.close();
    } catch (err) {
      this.log.error(`VRRP firewall: ${(err as Error).message}`);
    }
  }

  private hold(inst: VrrpInstance, vips: readonly VirtualIp[], on: boolean): void {
    let h = this.held.get(inst.name);
    if (!h) this.held.set(inst.name, (h = { instance: inst, vips: new Map() }));
    h.instance = inst;
    for (const vip of vips) {
      if (on) h.vips.set(vipKey(inst, vip), vip);
      else h.vips.delete(vipKey(inst, vip));
    }
  }

  /** A firewall that cannot be set is logged: the VIPs still move (failover matters more). */
  private async sync(): Promise<void> {
    if (this.closed) return;
    const steered = [...this.vmacs.values()];
    const rules = firewallRules(
      this.settings,
      [...this.held.values()].map((h) => ({ instance: h.instance, vips: [...h.vips.values()] })),
      {
        vmac4: steered.filter((v) => v.families.includes(4)).map((v) => v.link),
        vmac6: steered.filter((v) => v.families.includes(6)).map((v) => v.link),
      },
    );
    try {
      await this.firewall.apply(rules);
    } catch (err) {
      this.log.error(`VRRP firewall: ${(err as Error).message}`);
    }
  }
}
