/**
 * Link operations over an RtnlSocket: list, look up by index or name, set admin state.
 */
import { type MacvlanSpec, decodeLink, encodeCreateMacvlan, encodeDeleteLink, encodeGetLink, encodeLinkDump, encodeSetLinkUp } from './convert.js';
import { NetlinkError } from './errors.js';
import type { RtnlSocket } from './socket.js';
import type { AddOutcome, DeleteOutcome, Link } from './types.js';
import { NLM_F_CREATE, NLM_F_EXCL, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from './wire.js';

const ENODEV = 19;
const EEXIST = 17;

export async function listLinks(sock: RtnlSocket): Promise<Link[]> {
  const replies = await sock.dump(RTM_GETLINK, encodeLinkDump(), 'list links');
  return replies.flatMap((msg) => {
    const link = msg.type === RTM_NEWLINK ? decodeLink(msg.payload) : null;
    return link ? [link] : [];
  });
}

/** One link by index or name; null when there is no such link. */
export async function getLink(sock: RtnlSocket, which: number | string): Promise<Link | null> {
  const query = typeof which === 'number' ? { index: which } : { name: which };
  try {
    const replies = await sock.request(RTM_GETLINK, 0, encodeGetLink(query), `get link ${which}`);
    for (const msg of replies) {
      const link = msg.type === RTM_NEWLINK ? decodeLink(msg.payload) : null;
      if (link) return link;
    }
    return null;
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === ENODEV) return null;
    throw err;
  }
}

export async function linkIndex(sock: RtnlSocket, name: string): Promise<number> {
  const link = await getLink(sock, name);
  if (!link) throw new NetlinkError(`interface ${name}`, ENODEV);
  return link.index;
}

export async function linkName(sock: RtnlSocket, index: number): Promise<string> {
  const link = await getLink(sock, index);
  if (!link) throw new NetlinkError(`interface index ${index}`, ENODEV);
  return link.name;
}

/** Sets IFF_UP (ip link set DEV up/down) and nothing else. */
export async function setLinkUp(sock: RtnlSocket, index: number, up: boolean): Promise<void> {
  await sock.request(RTM_NEWLINK, 0, encodeSetLinkUp(index, up), `set link ${index} ${up ? 'up' : 'down'}`);
}

/** Creates a macvlan (VMAC) link; an existing link of that name counts as present. */
export async function createMacvlan(sock: RtnlSocket, spec: MacvlanSpec): Promise<AddOutcome> {
  try {
    await sock.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, encodeCreateMacvlan(spec), `create macvlan ${spec.name} on ifindex ${spec.parentIndex}`);
    return 'added';
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === EEXIST) return 'already-present';
    throw err;
  }
}

export async function deleteLink(sock: RtnlSocket, index: number): Promise<DeleteOutcome> {
  try {
    await sock.request(RTM_DELLINK, 0, encodeDeleteLink(index), `delete link ${index}`);
    return 'deleted';
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === ENODEV) return 'already-absent';
    throw err;
  }
}
