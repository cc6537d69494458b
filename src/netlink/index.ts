/**
 * The netlink layer's public face for rtnetlink (links and addresses) and for announcing
 * addresses on links. Everything opens its sockets in the network namespace the calling
 * thread is in at that moment (`ip netns exec`, or src/native's enterNamedNetworkNamespace
 * first).
 *
 *   const rtnl = RouteNetlink.open();
 *   const eth0 = await rtnl.getLink('eth0');                        // Link | null
 *   await rtnl.addAddress(spec);                                      // 'added' | 'already-present'
 *   await rtnl.deleteAddress(spec);                                   // 'deleted' | 'already-absent'
 *   const sub = await NetlinkSubscription.open();                     // link-up/down, address-added/removed, overrun
 *   sub.on((event) => ...);
 *   const announcer = new Announcer();                                // GARP / unsolicited NA
 *   announcer.announce(eth0, '192.0.2.10');
 *   const rx = RawReceiver.open(6, 112); rx.joinGroup('ff02::12', eth0.index);  // hop limit per datagram
 *
 * Kernel refusals throw NetlinkError (errno, code, operation); close() what you open.
 * Layout: wire.ts (messages, attributes), socket.ts (the request/ACK exchange), genl.ts
 * (generic netlink, which src/ipvs/ speaks), route/ (rtnetlink: constants, model, codec,
 * client, events), connector/ (the kernel's process events, for track_process).
 */
export { RouteNetlink, type AddressFilter } from './route/client.js';
export { NetlinkSubscription, type RouteWatch, type SubscriptionOptions } from './route/events.js';
export { linkIsUsable, parseScope, vrrpVirtualMac, type IpvlanMode, type IpvlanSpec, type MacvlanSpec, type MacvlanMode } from './route/codec.js';
export { RTN_LOCAL, RTN_UNICAST, RT_TABLE_LOCAL, RTPROT_KEEPALIVED } from './route/constants.js';
export type * from './route/model.js';
export { NetlinkError, NetlinkTransportError } from './errors.js';
export { Announcer, announcementFrame, ipv6ForwardingEnabled, type AnnounceLink } from './announce.js';
export { ProcEventSubscription, type ProcEvent } from './connector/proc-events.js';
export { RawReceiver, type ReceivedDatagram } from './raw-receiver.js';
