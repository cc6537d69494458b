// Our VRRP child (r1) against a crafted peer (r2, test/vrrp/transport-peer.mjs) on one bridge:
// adverts the receive checks must refuse, and what the child must do with them.
// - TTL / hop limit (RFC 3768 7.1, RFC 5798 7.1): a higher-priority peer holds our instance
//   in BACKUP when it sends at 255 and is ignored at 254, over IPv6 (the hop limit comes
//   from recvmsg ancillary data) and IPv4 (from the IP header); the refusals are counted
//   under the stats dump's TTL counter.
// - IPsec AH sequence numbers (keepalived's counter, one per instance for both directions):
//   a MASTER hearing a lower-priority rival with a higher number continues after it (its
//   answer carries the rival's number + 2), and a replayed number or a wrong ICV is refused
//   as an authentication failure, without an answer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { jsonLines } from '../helpers/netns.js';
import { encodeAdvert, encodeAhDatagram } from '../../src/vrrp/packet.js';
import { configText, labUnavailable, RouterLab, sleep, until, type Capture, type Daemon } from './lab.js';

const PEER = fileURLToPath(new URL('./transport-peer.mjs', import.meta.url));
const why = labUnavailable();
if (why) console.warn(`VRRP receive-check tests skipped: ${why}`);

const lab = new RouterLab('kt-vrc', 73);
let cap: Capture;

beforeAll(async () => {
  if (why) return;
  await lab.setup();
  cap = await lab.capture();
});

afterEach(async () => {
  if (why) return;
  await lab.stopAll();
  stopPeers();
  lab.flushVips(lab.r1, [`${lab.vip6(0x181)}/64`, `${lab.vip(182)}/24`, `${lab.vip(183)}/24`]);
});

afterAll(async () => {
  stopPeers();
  await lab.cleanup();
});

const peers: ReturnType<RouterLab['net']['spawn']>[] = [];
function stopPeers(): void {
  for (const p of peers.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** Runs transport-peer.mjs on r2; resolves once its socket is open (and, for one-shot sends, once it sent). */
async function peer(o: {
  family: 4 | 6;
  src: string;
  group: string;
  protocol?: number;
  hops?: number;
  every?: number;
  send: { hex: string; dst: string; whole?: boolean }[];
}) {
  const p = lab.net.spawn(lab.r2.ns, ['node', PEER, JSON.stringify({ ifname: 'eth0', ...o })]);
  peers.push(p);
  const lines = jsonLines(p) as { ready?: boolean }[];
  if (o.every) await until(() => lines.some((l) => l.ready), 10_000, 'peer ready');
  else await new Promise((r) => p.once('exit', r));
}

const holds = (addr: string) => lab.hasAddr(lab.r1, addr);

describe.skipIf(why)('TTL and hop limit 255 (multicast)', () => {
  const cases = [
    {
      family: 6 as const,
      vip: () => lab.vip6(0x181),
      conf: () => configText([{ name: 'V6', vrid: 81, prio: 100, version: 3, advertInt: '0.1', vips: [`${lab.vip6(0x181)}/64`] }]),
      advert: () =>
        encodeAdvert({
          version: 3,
          family: 6,
          vrid: 81,
          priority: 200,
          advertIntMs: 100,
          addresses: [lab.vip6(0x181)],
          auth: null,
          src: lab.r2.ll,
          dst: 'ff02::12',
        }),
      src: () => lab.r2.ll,
      group: 'ff02::12',
    },
    {
      family: 4 as const,
      vip: () => lab.vip(182),
      conf: () => configText([{ name: 'V4', vrid: 82, prio: 100, version: 3, advertInt: '0.1', vips: [`${lab.vip(182)}/24`] }]),
      advert: () =>
        encodeAdvert({
          version: 3,
          family: 4,
          vrid: 82,
          priority: 200,
          advertIntMs: 100,
          addresses: [lab.vip(182)],
          auth: null,
          src: lab.r2.ip,
          dst: '224.0.0.18',
        }),
      src: () => lab.r2.ip,
      group: '224.0.0.18',
    },
  ];
  for (const c of cases) {
    it(`IPv${c.family}: a higher-priority peer at 255 keeps us BACKUP; at 254 it is refused and counted, and we take over`, { timeout: 60_000 }, async () => {
      const send = [{ hex: c.advert().toString('hex'), dst: c.group }];
      await peer({ family: c.family, src: c.src(), group: c.group, every: 100, send });
      const ours: Daemon = await lab.start('ours', lab.r1, c.conf());
      // Master_Down for priority 100 at 0.1 s is 0.36 s: wait several
      await sleep(1_500);
      expect(holds(c.vip())).toBe(false);
      const heard = await ours.stats();
      expect(heard.received).toBeGreaterThan(5);
      expect(Object.entries(heard.rejected).filter(([, n]) => n > 0)).toEqual([]);

      // the same peer, one hop further away
      stopPeers();
      await peer({ family: c.family, src: c.src(), group: c.group, every: 100, send, hops: 254 });
      await until(() => holds(c.vip()), 5_000, `IPv${c.family} VIP taken over past the hop-254 peer`);
      const before = (await ours.stats()).rejected['packet-ttl'] ?? 0;
      await sleep(1_000);
      expect(holds(c.vip())).toBe(true);
      const after = await ours.stats();
      expect(
        Object.entries(after.rejected)
          .filter(([, n]) => n > 0)
          .map(([k]) => k),
      ).toEqual(['packet-ttl']);
      // about ten a second (logged once, counted each time)
      expect(after.rejected['packet-ttl']! - before).toBeGreaterThanOrEqual(5);
      expect(ours.log).toMatch(/advert rejected: bad-ttl/);
    });
  }
});

describe.skipIf(why)('IPsec AH sequence numbers (keepalived 2.2.7 behaviour)', () => {
  const VIP = () => lab.vip(183);
  const conf = () => configText([{ name: 'AH', vrid: 83, prio: 150, version: 2, advertInt: '1', auth: { type: 'AH', pass: 'kt-seq' }, vips: [`${VIP()}/24`] }]);
  const rival = (seq: number, pass = 'kt-seq') => {
    const vrrp = encodeAdvert({
      version: 2,
      family: 4,
      vrid: 83,
      priority: 100,
      advertIntMs: 1000,
      addresses: [VIP()],
      auth: { type: 'AH', pass },
      src: lab.r2.ip,
      dst: '224.0.0.18',
    });
    return encodeAhDatagram(vrrp, { src: lab.r2.ip, dst: '224.0.0.18', id: seq & 0xffff, pass, seq, unicast: false }).toString('hex');
  };
  const ourAdverts = (from: number) => cap.adverts(from).filter((a) => a.vrid === 83 && a.src === lab.r1.ip);
  const seqOf = (a: { frame: { ip?: { payload: Buffer } } }) => a.frame.ip!.payload.readUInt32BE(8);
  /** One peer process sends them back to back (starting one takes longer than an advert interval). */
  const sendRivals = (...hex: string[]) =>
    peer({ family: 4, src: lab.r2.ip, group: '224.0.0.18', protocol: 51, send: hex.map((h) => ({ hex: h, dst: '224.0.0.18', whole: true })) });

  it("a MASTER continues after a lower-priority rival's higher number; replays and bad ICVs are refused unanswered", { timeout: 60_000 }, async () => {
    const ours = await lab.start('ours', lab.r1, conf());
    await until(() => holds(VIP()), 10_000, 'MASTER alone');
    await until(() => ourAdverts(0).length >= 2, 3_000, 'two adverts of ours');
    expect(seqOf(ourAdverts(0).at(-1)!)).toBeLessThan(20);

    // a lower-priority rival far ahead: answered at once ("forcing new election") with its number + 2
    let from = cap.frames.length;
    const rivals = () => cap.adverts(from).filter((a) => a.vrid === 83 && a.src === lab.r2.ip);
    const oursAfter = (ts: number) => ourAdverts(from).filter((a) => a.frame.ts > ts);
    await sendRivals(rival(1000));
    await until(() => rivals().length === 1, 3_000, 'the rival advert captured');
    const rivalAt = rivals()[0]!.frame.ts;
    await until(() => oursAfter(rivalAt).length >= 1, 3_000, 'our answer');
    const answer = oursAfter(rivalAt)[0]!;
    expect(seqOf(answer)).toBe(1002);
    expect((answer.frame.ts - rivalAt) * 1000).toBeLessThan(500); // not the 1 s schedule
    expect((await ours.stats()).rejected['auth-failure']).toBe(0);

    // the same number again, then a higher one under another password: refused, no answer
    from = cap.frames.length;
    await sendRivals(rival(1000), rival(5000, 'other'));
    await until(() => rivals().length === 2, 3_000, 'both refused adverts captured');
    const lastRivalAt = rivals()[1]!.frame.ts;
    await until(() => oursAfter(lastRivalAt).length >= 1, 3_000, 'our next scheduled advert');
    const before = ourAdverts(0)
      .filter((a) => a.frame.ts < rivals()[0]!.frame.ts)
      .at(-1)!;
    const next = oursAfter(lastRivalAt)[0]!;
    expect(seqOf(before)).toBeGreaterThanOrEqual(1002);
    expect(seqOf(next)).toBe(seqOf(before) + 1);
    expect((await ours.stats()).rejected['auth-failure']).toBe(2);
    expect(holds(VIP())).toBe(true);
  });
});
