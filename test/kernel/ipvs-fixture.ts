/**
 * One IPVS table written down twice, by hand: as `ipvsadm -R` input / `ipvsadm -Sn` output,
 * and as our model. The parity scenarios program it one way and read it back the other.
 * It covers TCP/UDP/SCTP/fwmark, IPv4 and IPv6 (IPv6 real servers too), all 13
 * schedulers, NAT/DR/TUN (ipip, gue, gre), persistence with netmask and a persistence
 * engine, one-packet and scheduler flags, weights 0 and 65535, and thresholds.
 */
import { type Destination, type Service, type ServiceEntry, type Timeouts, type SyncDaemon, serviceId } from '../../src/ipvs/model.js';

/** `ipvsadm -R` input. -Sn does not print thresholds, so they appear only here. */
export const RESTORE = `
-A -t 10.10.0.1:80 -s rr
-a -t 10.10.0.1:80 -r 10.20.0.1:8080 -m -w 1
-a -t 10.10.0.1:80 -r 10.20.0.2:8080 -m -w 0
-A -t 10.10.0.2:443 -s wrr
-a -t 10.10.0.2:443 -r 10.20.0.3:443 -g -w 65535
-a -t 10.10.0.2:443 -r 10.20.0.4:443 -g -w 100 -x 1000 -y 100
-A -u 10.10.0.3:53 -s lc
-a -u 10.10.0.3:53 -r 10.20.0.5:53 -m -w 5
-A --sctp-service 10.10.0.4:3868 -s wlc
-a --sctp-service 10.10.0.4:3868 -r 10.20.0.6:3868 -m -w 2
-A -f 1 -s lblc -p 600 -M 255.255.255.0
-a -f 1 -r 10.20.0.7:0 -g -w 1
-A -f 2 -6 -s lblcr
-a -f 2 -6 -r [2001:db8:20::1]:0 -g -w 1
-A -t [2001:db8:10::1]:80 -s dh
-a -t [2001:db8:10::1]:80 -r [2001:db8:20::2]:80 -m -w 3
-a -t [2001:db8:10::1]:80 -r [2001:db8:20::3]:80 -i -w 4
-A -t 10.10.0.5:80 -s sh -b sh-fallback,sh-port
-a -t 10.10.0.5:80 -r 10.20.0.8:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.10.0.5:80 -r 10.20.0.9:80 -i -w 1 --tun-type gre --tun-csum
-A -u [2001:db8:10::2]:5060 -s sed -p 300 -M 64 --pe sip
-a -u [2001:db8:10::2]:5060 -r [2001:db8:20::4]:5060 -m -w 1
-A -u 10.10.0.6:514 -s nq -o
-a -u 10.10.0.6:514 -r 10.20.0.10:514 -m -w 7
-A -t 10.10.0.7:80 -s fo
-a -t 10.10.0.7:80 -r 10.20.0.11:80 -m -w 10
-a -t 10.10.0.7:80 -r 10.20.0.12:80 -m -w 20
-A -t 10.10.0.8:80 -s ovf
-a -t 10.10.0.8:80 -r 10.20.0.13:80 -m -w 1 -x 50 -y 5
-A -u 10.10.0.9:53 -s mh -b mh-fallback,mh-port
-a -u 10.10.0.9:53 -r 10.20.0.14:53 -m -w 1
`;

/** What `ipvsadm -Sn` prints for that table (order aside: see normalizeRules). */
export const SAVED = `
-A -t 10.10.0.1:80 -s rr
-a -t 10.10.0.1:80 -r 10.20.0.1:8080 -m -w 1
-a -t 10.10.0.1:80 -r 10.20.0.2:8080 -m -w 0
-A -t 10.10.0.2:443 -s wrr
-a -t 10.10.0.2:443 -r 10.20.0.3:443 -g -w 65535
-a -t 10.10.0.2:443 -r 10.20.0.4:443 -g -w 100
-A -u 10.10.0.3:53 -s lc
-a -u 10.10.0.3:53 -r 10.20.0.5:53 -m -w 5
-A --sctp-service 10.10.0.4:3868 -s wlc
-a --sctp-service 10.10.0.4:3868 -r 10.20.0.6:3868 -m -w 2
-A -f 1 -s lblc -p 600 -M 255.255.255.0
-a -f 1 -r 10.20.0.7:0 -g -w 1
-A -f 2 -6 -s lblcr
-a -f 2 -6 -r [2001:db8:20::1]:0 -g -w 1
-A -t [2001:db8:10::1]:80 -s dh
-a -t [2001:db8:10::1]:80 -r [2001:db8:20::2]:80 -m -w 3
-a -t [2001:db8:10::1]:80 -r [2001:db8:20::3]:80 -i -w 4 --tun-type ipip
-A -t 10.10.0.5:80 -s sh -b sh-fallback,sh-port
-a -t 10.10.0.5:80 -r 10.20.0.8:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 10.10.0.5:80 -r 10.20.0.9:80 -i -w 1 --tun-type gre --tun-csum
-A -u [2001:db8:10::2]:5060 -s sed -p 300 -M 64 --pe sip
-a -u [2001:db8:10::2]:5060 -r [2001:db8:20::4]:5060 -m -w 1
-A -u 10.10.0.6:514 -s nq -o
-a -u 10.10.0.6:514 -r 10.20.0.10:514 -m -w 7
-A -t 10.10.0.7:80 -s fo
-a -t 10.10.0.7:80 -r 10.20.0.11:80 -m -w 10
-a -t 10.10.0.7:80 -r 10.20.0.12:80 -m -w 20
-A -t 10.10.0.8:80 -s ovf
-a -t 10.10.0.8:80 -r 10.20.0.13:80 -m -w 1
-A -u 10.10.0.9:53 -s mh -b mh-fallback,mh-port
-a -u 10.10.0.9:53 -r 10.20.0.14:53 -m -w 1
`;

/** Non-zero thresholds as `ipvsadm -Ln --thresholds` shows them: "real server: upper lower". */
export const THRESHOLDS = ['10.20.0.4:443 1000 100', '10.20.0.13:80 50 5'];

export const TIMEOUTS: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };
export const TIMEOUTS_ARGS = '--set 900 120 300';
export const TIMEOUTS_LINE = 'Timeout (tcp tcpfin udp): 900 120 300';

export const DAEMON: SyncDaemon = {
  state: 'master',
  interface: 'lo',
  syncId: 5,
  maxLen: 1400,
  group: '224.0.0.81',
  port: 8850,
  ttl: 2,
};
export const DAEMON_ARGS = '--start-daemon master --mcast-interface lo --syncid 5 --sync-maxlen 1400 --mcast-port 8850 --mcast-ttl 2 --mcast-group 224.0.0.81';
export const DAEMON_LINE = 'master sync daemon (mcast=lo, syncid=5, maxlen=1400, group=224.0.0.81, port=8850, ttl=2)';

const flags = (f: Partial<Service['flags']> = {}): Service['flags'] => ({
  persistent: false,
  onePacket: false,
  schedFallback: false,
  schedPort: false,
  sched3: false,
  ...f,
});
const v4 = (s: Partial<Service> & Pick<Service, 'scheduler'>): Service =>
  ({ family: 'inet', flags: flags(), timeout: 0, prefix: 32, pe: null, ...s }) as Service;
const v6 = (s: Partial<Service> & Pick<Service, 'scheduler'>): Service =>
  ({ family: 'inet6', flags: flags(), timeout: 0, prefix: 128, pe: null, ...s }) as Service;
const dest = (address: string, port: number, forwarding: Destination['forwarding'], weight: number, more: Partial<Destination> = {}): Destination => ({
  family: address.includes(':') ? 'inet6' : 'inet',
  address,
  port,
  forwarding,
  weight,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: forwarding === 'tunnel' ? { type: 'ipip', port: 0, flags: 0 } : null,
  ...more,
});

export const TABLE: ServiceEntry[] = [
  {
    service: v4({ protocol: 'tcp', address: '10.10.0.1', port: 80, scheduler: 'rr' }),
    destinations: [dest('10.20.0.1', 8080, 'masquerade', 1), dest('10.20.0.2', 8080, 'masquerade', 0)],
  },
  {
    service: v4({ protocol: 'tcp', address: '10.10.0.2', port: 443, scheduler: 'wrr' }),
    destinations: [dest('10.20.0.3', 443, 'route', 65535), dest('10.20.0.4', 443, 'route', 100, { upperThreshold: 1000, lowerThreshold: 100 })],
  },
  { service: v4({ protocol: 'udp', address: '10.10.0.3', port: 53, scheduler: 'lc' }), destinations: [dest('10.20.0.5', 53, 'masquerade', 5)] },
  { service: v4({ protocol: 'sctp', address: '10.10.0.4', port: 3868, scheduler: 'wlc' }), destinations: [dest('10.20.0.6', 3868, 'masquerade', 2)] },
  {
    service: v4({ fwmark: 1, scheduler: 'lblc', flags: flags({ persistent: true }), timeout: 600, prefix: 24 }),
    destinations: [dest('10.20.0.7', 0, 'route', 1)],
  },
  { service: v6({ fwmark: 2, scheduler: 'lblcr' }), destinations: [dest('2001:db8:20::1', 0, 'route', 1)] },
  {
    service: v6({ protocol: 'tcp', address: '2001:db8:10::1', port: 80, scheduler: 'dh' }),
    destinations: [dest('2001:db8:20::2', 80, 'masquerade', 3), dest('2001:db8:20::3', 80, 'tunnel', 4)],
  },
  {
    service: v4({ protocol: 'tcp', address: '10.10.0.5', port: 80, scheduler: 'sh', flags: flags({ schedFallback: true, schedPort: true }) }),
    destinations: [
      dest('10.20.0.8', 80, 'tunnel', 1, { tunnel: { type: 'gue', port: 6080, flags: 1 } }),
      dest('10.20.0.9', 80, 'tunnel', 1, { tunnel: { type: 'gre', port: 0, flags: 1 } }),
    ],
  },
  {
    service: v6({
      protocol: 'udp',
      address: '2001:db8:10::2',
      port: 5060,
      scheduler: 'sed',
      flags: flags({ persistent: true }),
      timeout: 300,
      prefix: 64,
      pe: 'sip',
    }),
    destinations: [dest('2001:db8:20::4', 5060, 'masquerade', 1)],
  },
  {
    service: v4({ protocol: 'udp', address: '10.10.0.6', port: 514, scheduler: 'nq', flags: flags({ onePacket: true }) }),
    destinations: [dest('10.20.0.10', 514, 'masquerade', 7)],
  },
  {
    service: v4({ protocol: 'tcp', address: '10.10.0.7', port: 80, scheduler: 'fo' }),
    destinations: [dest('10.20.0.11', 80, 'masquerade', 10), dest('10.20.0.12', 80, 'masquerade', 20)],
  },
  {
    service: v4({ protocol: 'tcp', address: '10.10.0.8', port: 80, scheduler: 'ovf' }),
    destinations: [dest('10.20.0.13', 80, 'masquerade', 1, { upperThreshold: 50, lowerThreshold: 5 })],
  },
  {
    service: v4({ protocol: 'udp', address: '10.10.0.9', port: 53, scheduler: 'mh', flags: flags({ schedFallback: true, schedPort: true }) }),
    destinations: [dest('10.20.0.14', 53, 'masquerade', 1)],
  },
];

/** ipvsadm lists services in hash order: compare rule sets per service, sorted. */
export function normalizeRules(text: string): string[] {
  const blocks: string[][] = [];
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    if (line.startsWith('-A')) blocks.push([line]);
    else if (blocks.length) blocks[blocks.length - 1]!.push(line);
    else blocks.push([line]);
  }
  return blocks.map(([head, ...rest]) => [head, ...rest.sort()].join('\n')).sort();
}

/** The table as the kernel reports it, minus counters, in a stable order. */
export function normalizeTable(entries: ServiceEntry[]): ServiceEntry[] {
  const key = (e: ServiceEntry): string => serviceId(e.service);
  return entries
    .map((e) => {
      const { stats: _s, ...service } = e.service;
      return {
        service: service,
        destinations: e.destinations
          .map((d) => {
            const { stats: _d, activeConns: _a, inactiveConns: _i, persistentConns: _p, ...rest } = d;
            return rest;
          })
          .sort((a, b) => `${a.address}:${a.port}`.localeCompare(`${b.address}:${b.port}`)),
      };
    })
    .sort((a, b) => key(a).localeCompare(key(b)));
}
