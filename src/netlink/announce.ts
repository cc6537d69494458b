/**
 * Announces addresses to the neighbours on a link: gratuitous ARP for IPv4, unsolicited NA
 * for IPv6, sent as raw Ethernet frames through the native addon (AF_PACKET). Timing
 * (vrrp_garp_master_repeat, delays, refresh) belongs to the caller; this sends now.
 */
import { readFileSync } from 'node:fs';
import { buildGratuitousArp, buildUnsolicitedNa } from './frames.js';
import { familyOf } from '../ip/address.js';
import { type NativeAddon, loadNativeAddon } from '../native/index.js';

export interface AnnounceLink {
  index: number;
  name: string;
  /** The MAC neighbours should use for the address (the link's own, or a VMAC). */
  mac: string | null;
}

export interface FrameSender {
  send(ifindex: number, frame: Buffer): number;
  close(): void;
}

/**
 * One AF_PACKET socket, opened on first use in the namespace current at that time and kept:
 * closing a packet socket costs an RCU grace period, so a per-frame socket would cap
 * announcements at a few tens of frames a second.
 */
export class PacketSender implements FrameSender {
  private fd: number | null = null;
  private readonly addon: NativeAddon = loadNativeAddon();

  send(ifindex: number, frame: Buffer): number {
    this.fd ??= this.addon.openPacketSocket();
    return this.addon.sendFrame(this.fd, ifindex, frame);
  }

  close(): void {
    if (this.fd === null) return;
    this.addon.closeSocket(this.fd);
    this.fd = null;
  }
}

/**
 * keepalived sets the NA Router flag when IPv6 forwarding is on for the interface. Read from
 * /proc/sys/net, which shows the network namespace of the reading thread.
 */
export function ipv6ForwardingEnabled(ifname: string): boolean {
  try {
    return readFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`, 'utf8').trim() === '1';
  } catch {
    return false; // IPv6 disabled or the link is gone: not a router on it
  }
}

/** The frame that announces `address` on `link`. */
export function announcementFrame(link: AnnounceLink, address: string, router?: boolean): Buffer {
  if (!link.mac) throw new Error(`cannot announce ${address} on ${link.name}: the link has no hardware address`);
  return familyOf(address) === 4
    ? buildGratuitousArp(link.mac, address)
    : buildUnsolicitedNa(link.mac, address, { router: router ?? ipv6ForwardingEnabled(link.name) });
}

export class Announcer {
  constructor(private readonly sender: FrameSender = new PacketSender()) {}

  /** Sends one GARP (IPv4) or unsolicited NA (IPv6) for `address` on `link`; throws on failure. */
  announce(link: AnnounceLink, address: string): void {
    this.sender.send(link.index, announcementFrame(link, address));
  }

  close(): void {
    this.sender.close();
  }

  /**
   * Announces every address `repeat` times (keepalived's garp_master_repeat), waiting
   * `intervalMs` between consecutive frames on the link (vrrp_garp_interval/gna_interval: a
   * delay between every message, so switches that rate-limit ARP keep up). Failures are
   * collected, not thrown, so one bad address does not silence the others.
   */
  async announceRepeatedly(link: AnnounceLink, addresses: readonly string[], repeat: number, intervalMs: number, signal?: AbortSignal): Promise<Error[]> {
    const errors: Error[] = [];
    let sent = 0;
    for (let round = 0; round < repeat; round++) {
      for (const address of addresses) {
        if (sent++ > 0 && intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
        if (signal?.aborted) return errors;
        try {
          this.announce(link, address);
        } catch (err) {
          errors.push(err as Error);
        }
      }
    }
    return errors;
  }
}
