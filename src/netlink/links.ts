/**
 * Link operations over an RtnlSocket: list, look up by index or name, set admin state.
 */
import { decodeLink, encodeGetLink, encodeLinkDump, encodeSetLinkUp } from './convert.js';
import { NetlinkError } from './errors.js';
import type { RtnlSocket } from './socket.js';
import type { Link } from './types.js';
import { RTM_GETLINK, RTM_NEWLINK } from './wire.js';

const ENODEV = 19;

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
