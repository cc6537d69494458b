#!/usr/bin/env node
// IPVS programming bench. Needs a kernel with IPVS: run it in the test VM after a build:
//   npm run build && test/kernel/vm.sh -- node bench/ipvs.mjs
// Times loading 1,000 services x 10 destinations through our client (batched writes; with
// BENCH_UNBATCHED=1 also one write per operation, as ipvsadm does) against `ipvsadm -R` of
// the same table (BENCH_SERVICES / BENCH_DESTS change the size), then
// checks that a diff changing one destination costs exactly one netlink write.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { IpvsClient } from '../dist/src/ipvs/client.js';
import { diff } from '../dist/src/ipvs/diff.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 1000);
const DESTS = Number(process.env.BENCH_DESTS ?? 10);
const noFlags = { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false };

const table = [];
const rules = [];
for (let s = 0; s < SERVICES; s++) {
  const vip = `10.100.${s >> 8}.${s & 255}`;
  const service = { family: 'inet', protocol: 'tcp', address: vip, port: 80, scheduler: 'wlc', flags: noFlags, timeout: 0, prefix: 32, pe: null };
  rules.push(`-A -t ${vip}:80 -s wlc`);
  const destinations = [];
  for (let d = 0; d < DESTS; d++) {
    const rip = `10.200.${d}.${(s % 250) + 1}`;
    destinations.push({ family: 'inet', address: rip, port: 8080, forwarding: 'masquerade', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: null });
    rules.push(`-a -t ${vip}:80 -r ${rip}:8080 -m -w 1`);
  }
  table.push({ service, destinations });
}
const ops = SERVICES * (1 + DESTS);
const CHANGED = Math.floor(SERVICES / 2);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const ipvsadm = (...args) => execFileSync('ipvsadm', args, { encoding: 'utf8', maxBuffer: 256 << 20 });
const countRules = () => ipvsadm('-Sn').split('\n').filter(Boolean).length;
const fmt = (x) => x.toFixed(0).padStart(7);
const results = [];

async function loadWithClient(label, batchSize) {
  const client = await IpvsClient.open({ batchSize });
  await client.flush();
  const writes0 = client.writes;
  const t0 = process.hrtime.bigint();
  await client.apply(diff(table, []));
  const t = ms(t0);
  const writes = client.writes - writes0;
  client.close();
  const loaded = countRules();
  if (loaded !== ops) throw new Error(`${label}: kernel holds ${loaded} rules, expected ${ops}`);
  results.push({ label, ms: t, writes });
  console.error(`bench: ${label}: ${t.toFixed(0)} ms`);
}

await loadWithClient('our client, apply() batched', undefined);
// ipvsadm's own pattern (one write, one ACK per operation): slow under TCG, so opt-in
if (process.env.BENCH_UNBATCHED === '1') await loadWithClient('our client, one write per operation', 1);

ipvsadm('-C');
writeFileSync('/tmp/bench-ipvs.rules', `${rules.join('\n')}\n`);
let t0 = process.hrtime.bigint();
execFileSync('sh', ['-c', 'ipvsadm -R < /tmp/bench-ipvs.rules']);
results.push({ label: 'ipvsadm -R (process included)', ms: ms(t0), writes: ops });
console.error(`bench: ipvsadm -R: ${results.at(-1).ms.toFixed(0)} ms`);
if (countRules() !== ops) throw new Error('ipvsadm -R did not load the whole table');

// one-change diff on the loaded table
const client = await IpvsClient.open();
t0 = process.hrtime.bigint();
const actual = await client.table();
const dumpMs = ms(t0);
const desired = table.map((e, i) =>
  i !== CHANGED
    ? e
    : {
        service: e.service,
        destinations: e.destinations.map((d, j) => (j === 3 ? { ...d, weight: 7 } : d)),
      },
);
t0 = process.hrtime.bigint();
const change = diff(desired, actual);
const diffMs = ms(t0);
const w0 = client.writes;
await client.apply(change);
const oneChangeWrites = client.writes - w0;
const after = await client.listDestinations(table[CHANGED].service);
client.close();
ipvsadm('-C');

console.log(
  `IPVS bench: ${SERVICES} services x ${DESTS} destinations = ${ops} operations (kernel ${execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()}, ${process.env.KERNEL_VM ? 'QEMU TCG guest' : 'host'})`,
);
for (const r of results) console.log(`  ${r.label.padEnd(40)} ${fmt(r.ms)} ms  ${String(r.writes).padStart(6)} writes  ${fmt(ops / (r.ms / 1000))} ops/s`);
console.log(`  dump of the loaded table (services + destinations)  ${fmt(dumpMs)} ms`);
console.log(`  diff of ${ops} entries with one changed weight ${fmt(diffMs)} ms -> ${change.length} operation(s): ${change.map((o) => o.op).join(', ')}`);
console.log(
  `  netlink writes to apply it: ${oneChangeWrites}; weight now ${after.find((d) => d.address === desired[CHANGED].destinations[3].address)?.weight}`,
);
if (change.length !== 1 || oneChangeWrites !== 1) process.exitCode = 1;
