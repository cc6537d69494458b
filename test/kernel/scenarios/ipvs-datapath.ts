/**
 * NAT data path: a client namespace fetches http://VIP/ N times; IPVS in the guest's root
 * namespace (programmed by our client, rr, masquerade) spreads the requests over two
 * real-server namespaces running busybox httpd. Then the counters our client reads must
 * agree with `ipvsadm -Ln --stats --exact` (both read after the 2 s estimator folded them).
 */
import { IpvsClient } from '../../../src/ipvs/client.js';
import type { Destination, Service, Stats } from '../../../src/ipvs/model.js';
import type { Scenario } from '../scenario.js';
import { createNs } from '../guest-net.js';

const VIP = '10.99.100.1';
const REQUESTS = 6;
const servers = [
  { ns: 'kt-ipvs-r1', host: 'kt-ipvs-h1', peer: 'kt-ipvs-p1', gw: '10.99.1.1', ip: '10.99.1.2' },
  { ns: 'kt-ipvs-r2', host: 'kt-ipvs-h2', peer: 'kt-ipvs-p2', gw: '10.99.2.1', ip: '10.99.2.2' },
];
const client = { ns: 'kt-ipvs-c', host: 'kt-ipvs-hc', peer: 'kt-ipvs-pc', gw: '10.99.0.1', ip: '10.99.0.2' };

const service: Service = {
  family: 'inet',
  protocol: 'tcp',
  address: VIP,
  port: 80,
  scheduler: 'rr',
  flags: { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
  timeout: 0,
  prefix: 32,
  pe: null,
};
const dest = (ip: string): Destination => ({
  family: 'inet',
  address: ip,
  port: 80,
  forwarding: 'masquerade',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: null,
});

const netns = createNs;

/** "TCP 10.99.100.1:80 6 36 24 2064 2736" lines of `ipvsadm -Ln --stats --exact`. */
function parseStats(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:TCP|UDP|SCTP|FWM|->)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m) out[m[1]!] = m.slice(2, 7);
  }
  return out;
}
const counters = (s: Stats | undefined): string[] => (s ? [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes].map(String) : []);

const scenario: Scenario = {
  name: 'ipvs-datapath',
  async run(ctx) {
    const ipvs = await IpvsClient.open();
    try {
      await ipvs.flush();
      await ctx.shOk(
        [
          'sysctl -qw net.ipv4.ip_forward=1',
          `ip addr add ${VIP}/32 dev lo`,
          ...[client, ...servers].map(netns),
          ...servers.map(
            (s) => `mkdir -p /tmp/${s.ns} && echo ${s.ns} > /tmp/${s.ns}/index.html && ip netns exec ${s.ns} busybox httpd -p ${s.ip}:80 -h /tmp/${s.ns}`,
          ),
        ].join(' && '),
      );
      await ipvs.apply([{ op: 'add-service', service }, ...servers.map((s) => ({ op: 'add-destination' as const, service, destination: dest(s.ip) }))]);

      const replies: string[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        // busybox wget -T segfaults in this version: bound it with timeout instead
        const r = await ctx.sh(`ip netns exec ${client.ns} timeout 5 busybox wget -q -O - http://${VIP}/`);
        replies.push(r.code === 0 ? r.stdout.trim() : `failed (${r.code}): ${r.stderr.trim()}`);
      }
      ctx.check('rr alternates the requests over both real servers', [...replies].sort(), [
        ...new Array<string>(REQUESTS / 2).fill('kt-ipvs-r1'),
        ...new Array<string>(REQUESTS / 2).fill('kt-ipvs-r2'),
      ]);

      await new Promise((r) => setTimeout(r, 4500)); // let the estimator fold the counters
      const svc = (await ipvs.listServices()).find((s) => 'address' in s && s.address === VIP);
      const dests = await ipvs.listDestinations(service);
      const ipvsadm = parseStats(await ctx.shOk('ipvsadm -Ln --stats --exact'));
      ctx.log(JSON.stringify(ipvsadm));

      ctx.check('service connections counted by our client', svc?.stats?.conns.toString(), String(REQUESTS));
      ctx.check('service counters agree with ipvsadm --stats', counters(svc?.stats), ipvsadm[`${VIP}:80`]);
      for (const s of servers) {
        const d = dests.find((x) => x.address === s.ip);
        ctx.check(`${s.ip} connections`, d?.stats?.conns.toString(), String(REQUESTS / 2));
        ctx.check(`${s.ip} counters agree with ipvsadm --stats`, counters(d?.stats), ipvsadm[`${s.ip}:80`]);
      }
      ctx.check('inbound packets were counted', (svc?.stats?.inPkts ?? 0n) > 0n, true);

      await ipvs.zero();
      await new Promise((r) => setTimeout(r, 2500));
      ctx.check('zero resets the counters', (await ipvs.listServices()).find((s) => 'address' in s && s.address === VIP)?.stats?.conns.toString(), '0');
    } finally {
      await ipvs.flush().catch(() => {});
      ipvs.close();
      await ctx.sh(
        [
          ...[client, ...servers].map((n) => `ip netns pids ${n.ns} | xargs -r kill; ip link del ${n.host}; ip netns del ${n.ns}`),
          `ip addr del ${VIP}/32 dev lo`,
        ].join('; '),
      );
    }
  },
};
export default scenario;
