/**
 * IPVS generic netlink constants, named after the kernel's uapi header `linux/ip_vs.h`.
 * Values are the ABI: they never change, so they are spelled out rather than derived.
 * Netlink's own (message flags, attribute bits, the controller) are in src/netlink/.
 */

/** The generic netlink family name the controller resolves, and the version we speak. */
export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;

/** enum ipvs_cmd */
export const IPVS_CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

/** Top-level attributes of an IPVS message (enum IPVS_CMD_ATTR_*). */
export const IPVS_CMD_ATTR = {
  SERVICE: 1,
  DEST: 2,
  DAEMON: 3,
  TIMEOUT_TCP: 4,
  TIMEOUT_TCP_FIN: 5,
  TIMEOUT_UDP: 6,
} as const;

/** Attributes nested in IPVS_CMD_ATTR_SERVICE. */
export const IPVS_SVC_ATTR = {
  AF: 1, // u16
  PROTOCOL: 2, // u16
  ADDR: 3, // 4 or 16 bytes (union nf_inet_addr, kernel accepts either size)
  PORT: 4, // be16
  FWMARK: 5, // u32
  SCHED_NAME: 6, // NUL-terminated string
  FLAGS: 7, // struct ip_vs_flags { u32 flags; u32 mask; }
  TIMEOUT: 8, // u32 seconds of persistence
  NETMASK: 9, // u32: IPv4 mask as stored in network order; IPv6 prefix length in host order
  STATS: 10, // nested IPVS_STATS_ATTR_* (32-bit counters)
  PE_NAME: 11, // string
  STATS64: 12, // nested IPVS_STATS_ATTR_* (64-bit counters)
} as const;

/** Attributes nested in IPVS_CMD_ATTR_DEST. */
export const IPVS_DEST_ATTR = {
  ADDR: 1,
  PORT: 2, // be16
  FWD_METHOD: 3, // u32 (IP_VS_CONN_F_FWD_MASK bits)
  WEIGHT: 4, // u32 (signed int in the kernel)
  U_THRESH: 5, // u32
  L_THRESH: 6, // u32
  ACTIVE_CONNS: 7, // u32
  INACT_CONNS: 8, // u32
  PERSIST_CONNS: 9, // u32
  STATS: 10,
  ADDR_FAMILY: 11, // u16
  STATS64: 12,
  TUN_TYPE: 13, // u8
  TUN_PORT: 14, // be16
  TUN_FLAGS: 15, // u16
} as const;

/** Attributes nested in IPVS_CMD_ATTR_DAEMON. */
export const IPVS_DAEMON_ATTR = {
  STATE: 1, // u32 IP_VS_STATE_*
  MCAST_IFN: 2, // string
  SYNC_ID: 3, // u32
  SYNC_MAXLEN: 4, // u16
  MCAST_GROUP: 5, // in_addr
  MCAST_GROUP6: 6, // in6_addr
  MCAST_PORT: 7, // u16
  MCAST_TTL: 8, // u8
} as const;

/** Attributes nested in *_ATTR_STATS and *_ATTR_STATS64. */
export const IPVS_STATS_ATTR = {
  CONNS: 1,
  INPKTS: 2,
  OUTPKTS: 3,
  INBYTES: 4,
  OUTBYTES: 5,
  CPS: 6,
  INPPS: 7,
  OUTPPS: 8,
  INBPS: 9,
  OUTBPS: 10,
  PAD: 11,
} as const;

/** Top-level attributes of the GET_INFO reply. */
export const IPVS_INFO_ATTR = {
  VERSION: 1, // u32, 0x010201 = 1.2.1
  CONN_TAB_SIZE: 2, // u32
} as const;

/** Virtual service flags (IP_VS_SVC_F_*). */
export const IP_VS_SVC_F = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002, // set by the kernel on every service it returns: never compare it
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;
/** Scheduler flag aliases: sh and mh give SCHED1/SCHED2 the same meaning. */
export const IP_VS_SVC_F_SCHED_SH_FALLBACK = IP_VS_SVC_F.SCHED1;
export const IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F.SCHED2;
export const IP_VS_SVC_F_SCHED_MH_FALLBACK = IP_VS_SVC_F.SCHED1;
export const IP_VS_SVC_F_SCHED_MH_PORT = IP_VS_SVC_F.SCHED2;

/** Forwarding methods (IP_VS_CONN_F_FWD_MASK part of the connection flags). */
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F = {
  MASQ: 0x0000,
  LOCALNODE: 0x0001,
  TUNNEL: 0x0002,
  DROUTE: 0x0003,
  BYPASS: 0x0004,
} as const;

/** Tunnel encapsulation types (IP_VS_CONN_F_TUNNEL_TYPE_*). */
export const IP_VS_TUNNEL_TYPE = { IPIP: 0, GUE: 1, GRE: 2 } as const;
/** Tunnel encapsulation flags (IP_VS_TUNNEL_ENCAP_FLAG_*). */
export const IP_VS_TUNNEL_ENCAP_FLAG = { NOCSUM: 0, CSUM: 1 << 0, REMCSUM: 1 << 1 } as const;

/** Sync daemon states (IP_VS_STATE_*). */
export const IP_VS_STATE = { NONE: 0, MASTER: 1, BACKUP: 2 } as const;

export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_PENAME_MAXLEN = 16;
export const IP_VS_IFNAME_MAXLEN = 16;

/** Every scheduler the Debian kernel ships as a module (ip_vs_NAME). */
export const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
