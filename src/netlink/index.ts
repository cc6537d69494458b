/**
 * The netlink layer's public face. Everything opens its sockets in the network namespace the
 * calling thread is in at that moment (`ip netns exec`, or src/native's
 * enterNamedNetworkNamespace first).
 *
 *   const rtnl = RouteNetlink.open();
 *   const eth0 = await rtnl.getLink('eth0');                        // Link | null
 *   await rtnl.addAddress(virtualIpToSpec(vip, eth0.index));         // 'added' | 'already-present'
 *   await rtnl.deleteAddress(spec);                                   // 'deleted' | 'already-absent'
 *   const sub = await NetlinkSubscription.open();                     // link-up/down, address-added/removed, overrun
 *   sub.on((event) => ...);
 *   const announcer = new Announcer();                                // GARP / unsolicited NA
 *   announcer.announce(eth0, '192.0.2.10');
 *   const rx = RawReceiver.open(6, 112); rx.joinGroup('ff02::12', eth0.index);  // hop limit per datagram
 *
 * Kernel refusals throw NetlinkError (errno, code, operation); close() what you open.
 */
import * as addresses from './addresses.js';
import * as links from './links.js';
import type { MacvlanSpec } from './convert.js';
import { RtnlSocket, type RtnlSocketOptions } from './socket.js';
import type { AddOutcome, AddressSpec, DeleteOutcome, InterfaceAddress, Link } from './types.js';

export class RouteNetlink {
  private constructor(private readonly sock: RtnlSocket) {}

  /** Opens a request socket in the calling thread's current network namespace. */
  static open(options: Pick<RtnlSocketOptions, 'timeoutMs'> = {}): RouteNetlink {
    return new RouteNetlink(new RtnlSocket({ timeoutMs: options.timeoutMs }));
  }

  addAddress(spec: AddressSpec): Promise<AddOutcome> {
    return addresses.addAddress(this.sock, spec);
  }
  deleteAddress(spec: AddressSpec): Promise<DeleteOutcome> {
    return addresses.deleteAddress(this.sock, spec);
  }
  listAddresses(filter?: addresses.AddressFilter): Promise<InterfaceAddress[]> {
    return addresses.listAddresses(this.sock, filter);
  }
  findAddress(spec: AddressSpec): Promise<InterfaceAddress | null> {
    return addresses.findAddress(this.sock, spec);
  }
  listLinks(): Promise<Link[]> {
    return links.listLinks(this.sock);
  }
  getLink(which: number | string): Promise<Link | null> {
    return links.getLink(this.sock, which);
  }
  linkIndex(name: string): Promise<number> {
    return links.linkIndex(this.sock, name);
  }
  linkName(index: number): Promise<string> {
    return links.linkName(this.sock, index);
  }
  setLinkUp(index: number, up: boolean): Promise<void> {
    return links.setLinkUp(this.sock, index, up);
  }
  /** A VRRP virtual MAC interface (use_vmac): macvlan on `parentIndex`, private mode by default. */
  createMacvlan(spec: MacvlanSpec): Promise<AddOutcome> {
    return links.createMacvlan(this.sock, spec);
  }
  deleteLink(index: number): Promise<DeleteOutcome> {
    return links.deleteLink(this.sock, index);
  }
  close(): void {
    this.sock.close();
  }
}

export { NetlinkSubscription, type SubscriptionOptions } from './events.js';
export { NetlinkError, NetlinkTransportError } from './errors.js';
export { virtualIpToSpec, linkIsUsable, parseScope, vrrpVirtualMac, type MacvlanSpec, type MacvlanMode } from './convert.js';
export { Announcer, announcementFrame, ipv6ForwardingEnabled, type AnnounceLink } from './announce.js';
export { RawReceiver, type ReceivedDatagram } from './raw-receiver.js';
export type * from './types.js';
