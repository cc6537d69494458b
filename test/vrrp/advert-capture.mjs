// The observer of the multi-router tests: runs inside its own namespace on the bridge, joins
// the VRRP groups and prints every advert it hears as a JSON line with a monotonic stamp:
//   {"t": ms, "family": 4, "src": "10.77.0.1", "vrid": 51, "prio": 150, "int": 100, "v": 3}
// Usage: node advert-capture.mjs IFNAME
import { readFileSync } from 'node:fs';
import { VrrpTransport } from '../../dist/src/vrrp/transport.js';
import { parseIpv4Packet, parseIpv6Payload } from '../../dist/src/vrrp/packet.js';

const ifname = process.argv[2] ?? 'eth0';
const ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8'));
const out = (r) => {
  if (!r.ok) return console.log(JSON.stringify({ t: performance.now(), reject: r.reason }));
  const a = r.rx.advert;
  console.log(
    JSON.stringify({
      t: performance.now(),
      family: a.family,
      src: r.rx.src,
      vrid: a.vrid,
      prio: a.priority,
      int: a.advertIntMs,
      v: a.version,
      addrs: a.addresses,
    }),
  );
};
const v4 = new VrrpTransport({ family: 4, ifname, ifindex, srcAddress: '0.0.0.0', group: '224.0.0.18' });
v4.on('packet', (p) => out(parseIpv4Packet(p.payload)));
const v6 = new VrrpTransport({ family: 6, ifname, ifindex, srcAddress: '::', group: 'ff02::12' });
v6.on('packet', (p) => out(parseIpv6Payload(p.payload, { src: p.source, dst: p.destination ?? 'ff02::12', hopLimit: p.hopLimit })));
console.log(JSON.stringify({ ready: true }));
process.on('SIGTERM', () => process.exit(0));
