/**
 * The netlink layer's public face: one request socket for addresses and links, plus event
 * subscriptions and GARP/NA announcements.
 */
import * as addresses from './addresses.js';
import * as links from './links.js';
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
  close(): void {
    this.sock.close();
  }
}

export { NetlinkSubscription, type SubscriptionOptions } from './events.js';
export { NetlinkError, NetlinkTransportError } from './errors.js';
export { virtualIpToSpec, linkIsUsable, parseScope } from './convert.js';
export { Announcer, announcementFrame, ipv6ForwardingEnabled, type AnnounceLink } from './announce.js';
export { RawReceiver, type ReceivedDatagram } from './raw-receiver.js';
export { enterNamedNetworkNamespace } from './native.js';
export type * from './types.js';
