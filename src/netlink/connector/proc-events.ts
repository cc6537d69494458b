/**
 * The kernel's process events over the netlink connector (<linux/connector.h>,
 * <linux/cn_proc.h>): a socket of protocol NETLINK_CONNECTOR joins group CN_IDX_PROC and
 * asks for PROC_CN_MCAST_LISTEN; the kernel then multicasts one message per fork, exec, comm
 * change and exit of every process on the host. track_process (src/vrrp) counts processes
 * with them.
 *
 * The connector exists only in the initial network namespace: elsewhere the subscription
 * request is refused (ECONNREFUSED), and a kernel without CONFIG_PROC_EVENTS never answers
 * it. open() reports both as a rejection, so the caller can poll /proc instead.
 *
 * Layout of one message, after the netlink header (whose type is NLMSG_DONE):
 *   cn_msg     idx u32, val u32, seq u32, ack u32, len u16, flags u16      (20 bytes)
 *   proc_event what u32, cpu u32, timestamp_ns u64, then the event's data (pids as u32)
 */
import { NetlinkError, NetlinkTransportError } from '../errors.js';
import { Listeners } from '../listeners.js';
import { NetlinkSocket } from '../socket.js';
import { NLMSG_DONE, readU32, writeU16, writeU32 } from '../wire.js';

export const NETLINK_CONNECTOR = 11;
export const CN_IDX_PROC = 1;
export const CN_VAL_PROC = 1;
export const PROC_CN_MCAST_LISTEN = 1;
export const PROC_CN_MCAST_IGNORE = 2;

export const PROC_EVENT_NONE = 0;
export const PROC_EVENT_FORK = 0x1;
export const PROC_EVENT_EXEC = 0x2;
export const PROC_EVENT_COMM = 0x200;
export const PROC_EVENT_EXIT = 0x80000000;

const CN_MSG_LEN = 20;
const EVENT_DATA = CN_MSG_LEN + 16;
const COMM_LEN = 16;
/** How long a kernel with the connector takes to acknowledge LISTEN, at most (keepalived waits 100 ms). */
const ACK_TIMEOUT_MS = 1_000;

/** The process events track_process needs; threads (pid != tgid) are told apart by the caller. */
export type ProcEvent =
  | { kind: 'listening'; errno: number }
  | { kind: 'fork'; parentTgid: number; childPid: number; childTgid: number }
  | { kind: 'exec'; pid: number; tgid: number }
  | { kind: 'comm'; pid: number; tgid: number; comm: string }
  | { kind: 'exit'; pid: number; tgid: number };

/** The payload of the subscription request (cn_msg + the op). */
export function encodeListenRequest(listen: boolean): Buffer {
  const b = Buffer.alloc(CN_MSG_LEN + 4);
  writeU32(b, CN_IDX_PROC, 0);
  writeU32(b, CN_VAL_PROC, 4);
  writeU16(b, 4, 16);
  writeU32(b, listen ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE, CN_MSG_LEN);
  return b;
}

/** Pure: one connector message's payload as an event; null for other connectors and other events. */
export function decodeProcEvent(payload: Buffer): ProcEvent | null {
  if (payload.length < EVENT_DATA + 4) return null;
  if (readU32(payload, 0) !== CN_IDX_PROC || readU32(payload, 4) !== CN_VAL_PROC) return null;
  const what = readU32(payload, CN_MSG_LEN);
  const u32 = (i: number): number | null => (payload.length >= EVENT_DATA + 4 * (i + 1) ? readU32(payload, EVENT_DATA + 4 * i) : null);
  switch (what) {
    case PROC_EVENT_NONE:
      return { kind: 'listening', errno: u32(0)! };
    case PROC_EVENT_FORK: {
      const [parentTgid, childPid, childTgid] = [u32(1), u32(2), u32(3)];
      return parentTgid === null || childPid === null || childTgid === null ? null : { kind: 'fork', parentTgid, childPid, childTgid };
    }
    case PROC_EVENT_EXEC:
    case PROC_EVENT_EXIT: {
      const [pid, tgid] = [u32(0), u32(1)];
      if (pid === null || tgid === null) return null;
      return { kind: what === PROC_EVENT_EXEC ? 'exec' : 'exit', pid, tgid };
    }
    case PROC_EVENT_COMM: {
      const [pid, tgid] = [u32(0), u32(1)];
      const start = EVENT_DATA + 8;
      if (pid === null || tgid === null || payload.length < start + COMM_LEN) return null;
      const raw = payload.subarray(start, start + COMM_LEN);
      const nul = raw.indexOf(0);
      return { kind: 'comm', pid, tgid, comm: raw.subarray(0, nul < 0 ? COMM_LEN : nul).toString('latin1') };
    }
    default:
      return null;
  }
}

export class ProcEventSubscription {
  private readonly listeners = new Listeners<[ProcEvent]>();
  private readonly overruns = new Listeners<[]>();

  private constructor(private readonly sock: NetlinkSocket) {
    sock.onNotification((msg) => {
      const ev = decodeProcEvent(msg.payload);
      if (ev) this.listeners.emit(ev);
    });
    sock.onOverrun(() => this.overruns.emit());
  }

  /**
   * Subscribes; resolves once the kernel acknowledged. Rejects with NetlinkError where the
   * connector is absent (ECONNREFUSED outside the initial network namespace) and with
   * NetlinkTransportError where nothing acknowledges (no CONFIG_PROC_EVENTS).
   */
  static async open(socket?: NetlinkSocket): Promise<ProcEventSubscription> {
    const sock = socket ?? NetlinkSocket.open(NETLINK_CONNECTOR, { groups: [CN_IDX_PROC], doneIsData: true, recvBufferSize: 4 << 20 });
    const sub = new ProcEventSubscription(sock);
    let timer: NodeJS.Timeout | undefined;
    const acked = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new NetlinkTransportError(`subscribe to process events: no answer from the kernel within ${ACK_TIMEOUT_MS} ms (no CONFIG_PROC_EVENTS?)`)),
        ACK_TIMEOUT_MS,
      );
      const off = sub.on((ev) => {
        if (ev.kind !== 'listening') return;
        clearTimeout(timer);
        off();
        if (ev.errno === 0) resolve();
        else reject(new NetlinkError('subscribe to process events', ev.errno));
      });
    });
    // a refused send settles first: the acknowledgement then never comes
    acked.catch(() => undefined);
    try {
      await sock.send(NLMSG_DONE, 0, encodeListenRequest(true), 'subscribe to process events');
      await acked;
    } catch (err) {
      clearTimeout(timer);
      sub.close();
      throw err;
    }
    return sub;
  }

  on(listener: (ev: ProcEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Events were lost (the receive buffer overflowed): whoever counts processes re-reads /proc. */
  onOverrun(listener: () => void): () => void {
    return this.overruns.add(listener);
  }

  close(): void {
    this.listeners.clear();
    this.overruns.clear();
    this.sock.close();
  }
}
