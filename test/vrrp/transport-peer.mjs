// Runs inside a namespace: opens a VrrpTransport and either prints what it receives (JSON
// lines) or sends the given payloads. Usage: node transport-peer.mjs JSON-OPTIONS
//   {family, ifname, src, group, protocol?, send?: [{hex, dst, whole?}], hops?, every?}
// `hops` sends with that TTL / hop limit instead of 255 (a peer the receiver must ignore);
// `every` repeats the sends every that many ms until killed, instead of once; `whole` says
// the hex is a complete IPv4 datagram (e.g. IPsec AH built by the test), sent as it is.
import { VrrpTransport } from '../../dist/src/vrrp/transport.js';
import { encodeIpv4Datagram } from '../../dist/src/vrrp/packet.js';

const o = JSON.parse(process.argv[2]);
const { execSync } = await import('node:child_process');
const ifindex = Number(execSync(`cat /sys/class/net/${o.ifname}/ifindex`).toString());
const t = new VrrpTransport({ family: o.family, ifname: o.ifname, ifindex, srcAddress: o.src, group: o.group, protocol: o.protocol, hopLimit: o.hops });
t.on('packet', (p) => console.log(JSON.stringify({ source: p.source, destination: p.destination, hopLimit: p.hopLimit, hex: p.payload.toString('hex') })));
console.log(JSON.stringify({ ready: true }));
if (o.send) {
  let id = 0;
  const sendAll = async () => {
    for (const s of o.send) {
      const payload = Buffer.from(s.hex, 'hex');
      const ttl = o.hops ?? 255;
      const packet = o.family === 6 || s.whole ? payload : encodeIpv4Datagram(payload, { src: o.src, dst: s.dst, id: ++id, ttl, protocol: o.protocol });
      await t.send(packet, s.dst);
    }
  };
  await sendAll();
  if (o.every) setInterval(() => void sendAll(), o.every);
  else t.close();
}
