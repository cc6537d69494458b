#!/usr/bin/env node
// Netlink request/dump cost per exchange, on this host's kernel (no IPVS needed): our
// NetlinkSocket (src/netlink/socket.ts, the path every rtnetlink and IPVS request takes)
// beside the bare socket underneath it (netlink's RawNetlinkSocket with nothing but a
// sequence-number match: the floor), alternating in the same run. With
// BENCH_COMPARE=/path/to/other/tree (a built checkout, e.g. main) its NetlinkSocket runs too,
// so a branch can be compared with main. CPU time (user + system) per exchange is the figure
// that matters on a shared machine; wall time is printed beside it with the load average.
//   npm run build && node bench/netlink.mjs
// Knobs: BENCH_N exchanges per measurement (default 5000), BENCH_ROUNDS (5, median printed),
// BENCH_CASES (comma-separated case names to run).
import { resolve } from 'node:path';
import { RawNetlinkSocket } from 'netlink/dist/raw.js';
import { env, loadAverage, stats } from './lib.mjs';
import { GenlFamily, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME } from '../dist/src/netlink/genl.js';
import { NetlinkSocket } from '../dist/src/netlink/socket.js';
import {
  AttrWriter,
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  encodeMessages,
} from '../dist/src/netlink/wire.js';

const N = Number(env('BENCH_N', 5000));
const ROUNDS = Number(env('BENCH_ROUNDS', 5));
const WARMUP = 500;
const RTM_GETLINK = 18;
const CTRL_VERSION = 1;

const compareDir = process.env.BENCH_COMPARE ? resolve(process.env.BENCH_COMPARE) : null;
const other = compareDir && {
  NetlinkSocket: (await import(`${compareDir}/dist/src/netlink/socket.js`)).NetlinkSocket,
  GenlFamily: (await import(`${compareDir}/dist/src/netlink/genl.js`)).GenlFamily,
};

const genlHeader = Buffer.from([CTRL_CMD_GETFAMILY, CTRL_VERSION, 0, 0]);
const familyName = new AttrWriter().str(CTRL_ATTR_FAMILY_NAME, 'nlctrl').result();
// ifinfomsg for index 1 (lo, in every namespace)
const loIfinfo = Buffer.alloc(16);
loIfinfo.writeInt32LE(1, 4);

/**
 * The floor: one raw socket, requests matched to answers by sequence number only (no
 * timeout, no error decoding, no process hold). Resolves on the ACK, or on DONE for a dump.
 */
function bareExchange(protocol) {
  const sock = new RawNetlinkSocket(protocol, { recvBufferSize: 1 << 20 });
  const port = sock.address().port;
  let seq = 1;
  let waiting = null;
  sock.on('message', (buf) => {
    for (let off = 0; off + 16 <= buf.length; off += (buf.readUInt32LE(off) + 3) & ~3) {
      const type = buf.readUInt16LE(off + 4);
      if (waiting && buf.readUInt32LE(off + 8) === waiting.seq && (type === NLMSG_ERROR || type === NLMSG_DONE)) {
        const w = waiting;
        waiting = null;
        w.resolve();
      }
    }
  });
  const run = (type, flags, payload) =>
    new Promise((res) => {
      waiting = { seq: ++seq, resolve: res };
      sock.send(encodeMessages([{ type, flags, payload }], seq, port), {}, () => {});
    });
  return { run, close: () => sock.close() };
}

function ours(Socket, Family, protocol) {
  const socket = Socket.open(protocol, { recvBufferSize: 1 << 20 });
  return { socket, genl: Family && new Family(socket, GENL_ID_CTRL, CTRL_VERSION), close: () => socket.close() };
}

const impls = {
  'bare socket (floor)': {
    'genl request (GETFAMILY nlctrl)': () => {
      const b = bareExchange(NETLINK_GENERIC);
      return [() => b.run(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, [genlHeader, familyName]), b.close];
    },
    'genl dump (GETFAMILY, every family)': () => {
      const b = bareExchange(NETLINK_GENERIC);
      return [() => b.run(GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP, [genlHeader]), b.close];
    },
    'rtnl request (GETLINK lo)': () => {
      const b = bareExchange(NETLINK_ROUTE);
      return [() => b.run(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, [loIfinfo]), b.close];
    },
  },
};
function oursCases(Socket, Family) {
  return {
    'genl request (GETFAMILY nlctrl)': () => {
      const o = ours(Socket, Family, NETLINK_GENERIC);
      return [() => o.genl.request(CTRL_CMD_GETFAMILY, [familyName], 'get family'), o.close];
    },
    'genl dump (GETFAMILY, every family)': () => {
      const o = ours(Socket, Family, NETLINK_GENERIC);
      return [() => o.genl.dump(CTRL_CMD_GETFAMILY, [], 'list families'), o.close];
    },
    'rtnl request (GETLINK lo)': () => {
      const o = ours(Socket, null, NETLINK_ROUTE);
      return [() => o.socket.request(RTM_GETLINK, 0, loIfinfo, 'get link lo'), o.close];
    },
  };
}
impls['NetlinkSocket (this tree)'] = oursCases(NetlinkSocket, GenlFamily);
if (other) impls[`NetlinkSocket (${compareDir})`] = oursCases(other.NetlinkSocket, other.GenlFamily);

async function measure(make) {
  const [run, close] = make();
  for (let i = 0; i < WARMUP; i++) await run();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await run();
  const cpu = process.cpuUsage(cpu0);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  close();
  return { cpuUs: (cpu.user + cpu.system) / N, wallUs };
}

const wanted = process.env.BENCH_CASES?.split(',');
const caseNames = Object.keys(impls['bare socket (floor)']).filter((c) => !wanted || wanted.some((w) => c.includes(w)));
console.log(`netlink exchanges: ${N} per measurement, median of ${ROUNDS} rounds, alternating (load ${loadAverage()})`);
for (const name of caseNames) {
  const results = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [impl, cases] of Object.entries(impls)) results[impl].push(await measure(cases[name]));
  console.log(`  ${name}`);
  for (const [impl, rs] of Object.entries(results)) {
    const cpu = stats(rs.map((x) => x.cpuUs)).med;
    const wall = stats(rs.map((x) => x.wallUs)).med;
    console.log(`    ${impl.padEnd(40)} CPU ${cpu.toFixed(1).padStart(6)} us   wall ${wall.toFixed(1).padStart(7)} us   per exchange`);
  }
}
console.log(`  (load ${loadAverage()})`);
