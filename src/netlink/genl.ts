/**
 * Generic netlink (<linux/genetlink.h>): families such as IPVS get a number at runtime, which
 * the controller family resolves from the name; every message carries a 4-byte genlmsghdr
 * (command, version) before its attributes. A GenlFamily speaks one resolved family over a
 * NetlinkSocket.
 */
import type { BatchFailure, NetlinkSocket } from './socket.js';
import { type NlMessage, decodeAttrs, AttrWriter } from './wire.js';

export const GENL_HDRLEN = 4;
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
/** The version our requests to the controller carry (the kernel accepts any). */
const CTRL_REQUEST_VERSION = 1;

const headers = new Map<number, Buffer>();

/** genlmsghdr { cmd, version, reserved }; shared (a bulk load sends thousands of the same few). */
export function genlHeader(cmd: number, version: number): Buffer {
  const key = (cmd << 8) | version;
  let h = headers.get(key);
  if (!h) {
    h = Buffer.from([cmd, version, 0, 0]);
    headers.set(key, h);
  }
  return h;
}

/** The attributes of a generic netlink message (after its genlmsghdr). */
export const genlAttrs = (m: NlMessage): Buffer => m.payload.subarray(GENL_HDRLEN);

export interface GenlFamilyInfo {
  id: number;
  /** The family's version as the kernel implements it. */
  version: number | null;
}

/** Asks the controller for `name`'s family id; a kernel without the family answers ENOENT. */
export async function resolveGenlFamily(socket: NetlinkSocket, name: string, operation: string): Promise<GenlFamilyInfo> {
  const request = new AttrWriter().str(CTRL_ATTR_FAMILY_NAME, name).result();
  const replies = await socket.request(GENL_ID_CTRL, 0, [genlHeader(CTRL_CMD_GETFAMILY, CTRL_REQUEST_VERSION), request], operation);
  const reply = replies[0];
  const attrs = reply && decodeAttrs(genlAttrs(reply));
  const id = attrs?.u16(CTRL_ATTR_FAMILY_ID);
  if (id === undefined) throw new Error(`generic netlink controller answered without a family id for ${name}`);
  return { id, version: attrs?.u32(CTRL_ATTR_VERSION) ?? null };
}

/** One generic netlink family's commands over a socket, as requests, dumps and batches. */
export class GenlFamily {
  constructor(
    readonly socket: NetlinkSocket,
    readonly id: number,
    /** The version our messages carry. */
    readonly version: number,
  ) {}

  /** A command the kernel ACKs; resolves with the replies before the ACK. */
  request(cmd: number, attrs: readonly Uint8Array[], operation: string): Promise<NlMessage[]> {
    return this.socket.request(this.id, 0, [genlHeader(cmd, this.version), ...attrs], operation);
  }

  dump(cmd: number, attrs: readonly Uint8Array[], operation: string): Promise<NlMessage[]> {
    return this.socket.dump(this.id, [genlHeader(cmd, this.version), ...attrs], operation);
  }

  /** Commands in one write (see NetlinkSocket.requestBatch). */
  requestBatch(commands: readonly { cmd: number; attrs: readonly Uint8Array[] }[], describe: (index: number) => string): Promise<BatchFailure | null> {
    return this.socket.requestBatch(
      commands.map((c) => ({ type: this.id, flags: 0, payload: [genlHeader(c.cmd, this.version), ...c.attrs] })),
      describe,
    );
  }
}
