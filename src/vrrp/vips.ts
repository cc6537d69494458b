// Virtual addresses of an instance on the host: installed while MASTER, with the label,
// broadcast, scope and device the config gives. virtual_ipaddress_excluded addresses are
// installed like the others but never advertised (keepalived). Add and delete are
// idempotent at the netlink layer, so a VIP already present (a restarted VRRP child) is
// adopted rather than flapped.
import type { VirtualIp, VrrpInstance } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { type AddressSpec, type InterfaceAddress, NetlinkError, type RouteNetlink, parseScope } from '../netlink/index.js';
import { canonicalAddress } from './addr.js';

/** Every address the instance installs: advertised VIPs first, then excluded ones. */
export function installedVips(inst: VrrpInstance): VirtualIp[] {
  return [...inst.virtualIpaddresses, ...inst.virtualIpaddressesExcluded];
}

export function vipDevice(inst: VrrpInstance, vip: VirtualIp): string {
  return vip.dev ?? inst.interface;
}

/** Identity of a VIP on the host: reload diffs compare these. */
export function vipKey(inst: VrrpInstance, vip: VirtualIp): string {
  const a = canonicalAddress(vip.address, vip.family) ?? vip.address;
  return `${a}/${vip.prefix}%${vipDevice(inst, vip)}`;
}

/** VIPs to remove and to add when a MASTER's config changes from `before` to `after`. */
export function vipChanges(before: VrrpInstance, after: VrrpInstance): { remove: VirtualIp[]; add: VirtualIp[] } {
  const oldKeys = new Map(installedVips(before).map((v) => [vipKey(before, v), v]));
  const newKeys = new Map(installedVips(after).map((v) => [vipKey(after, v), v]));
  return {
    remove: [...oldKeys].filter(([k]) => !newKeys.has(k)).map(([, v]) => v),
    add: [...newKeys].filter(([k]) => !oldKeys.has(k)).map(([, v]) => v),
  };
}

/** Does the kernel's `a` stand for `vip` on `ifindex`? */
export function isThisVip(a: Pick<InterfaceAddress, 'ifindex' | 'family' | 'address'>, vip: VirtualIp, ifindex: number): boolean {
  return a.ifindex === ifindex && a.family === vip.family && a.address === (canonicalAddress(vip.address, vip.family) ?? vip.address);
}

/**
 * A configured VIP as the address to install on `ifindex`. keepalived adds IPv6 VIPs with
 * NODAD so they are usable at once; `no_dad` in the config says the same explicitly.
 */
export function virtualIpToSpec(vip: VirtualIp, ifindex: number): AddressSpec {
  return {
    ifindex,
    family: vip.family,
    address: vip.address,
    prefix: vip.prefix,
    broadcast: vip.broadcast,
    scope: vip.scope == null ? null : parseScope(vip.scope),
    label: vip.label,
    noDad: vip.family === 6 ? true : vip.noDad,
  };
}

const ENODEV = 19;

export class VipManager {
  constructor(
    private readonly rtnl: RouteNetlink,
    private readonly ifindexOf: (name: string) => number | null,
    private readonly log: Logger,
  ) {}

  private spec(inst: VrrpInstance, vip: VirtualIp) {
    const dev = vipDevice(inst, vip);
    const ifindex = this.ifindexOf(dev);
    return ifindex === null ? null : virtualIpToSpec(vip, ifindex);
  }

  /** The VIPs as the kernel is asked for them (those whose device exists). */
  specs(inst: VrrpInstance, vips: readonly VirtualIp[]): AddressSpec[] {
    return vips.flatMap((vip) => this.spec(inst, vip) ?? []);
  }

  async add(inst: VrrpInstance, vips: readonly VirtualIp[]): Promise<void> {
    for (const vip of vips) {
      const spec = this.spec(inst, vip);
      if (!spec) {
        this.log.error({ instance: inst.name, vip: vip.address }, `cannot add VIP: no interface ${vipDevice(inst, vip)}`);
        continue;
      }
      try {
        const r = await this.rtnl.addAddress(spec);
        this.log.debug({ instance: inst.name, vip: `${vip.address}/${vip.prefix}`, outcome: r }, 'VIP add');
      } catch (err) {
        this.log.error({ instance: inst.name, vip: vip.address }, `VIP add failed: ${(err as Error).message}`);
      }
    }
  }

  async remove(inst: VrrpInstance, vips: readonly VirtualIp[]): Promise<void> {
    for (const vip of vips) {
      const spec = this.spec(inst, vip);
      if (!spec) continue; // the interface is gone, and its addresses with it
      try {
        await this.rtnl.deleteAddress(spec);
      } catch (err) {
        // the link went away (taking its addresses with it) since we looked its index up
        if (err instanceof NetlinkError && err.errno === ENODEV) continue;
        this.log.error({ instance: inst.name, vip: vip.address }, `VIP delete failed: ${(err as Error).message}`);
      }
    }
  }

  /** The instance's VIPs that are configured on the host right now. */
  async present(inst: VrrpInstance): Promise<VirtualIp[]> {
    const all = await this.rtnl.listAddresses();
    return installedVips(inst).filter((vip) => {
      const ifindex = this.ifindexOf(vipDevice(inst, vip));
      return ifindex !== null && all.some((a) => isThisVip(a, vip, ifindex));
    });
  }
}
