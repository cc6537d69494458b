/**
 * Our client writes the fixture table (through diff + apply, as the checker will), the
 * timeouts and a sync daemon; the real ipvsadm must read back exactly the fixture's rules.
 */
import { IpvsClient } from '../../../src/ipvs/client.js';
import { diff } from '../../../src/ipvs/diff.js';
import type { Scenario } from '../scenario.js';
import { DAEMON, DAEMON_LINE, SAVED, TABLE, THRESHOLDS, TIMEOUTS, TIMEOUTS_LINE, normalizeRules, normalizeTable } from '../ipvs-fixture.js';

const scenario: Scenario = {
  name: 'ipvs-parity-write',
  async run(ctx) {
    const client = await IpvsClient.open();
    try {
      await client.flush();
      const ops = diff(TABLE, await client.table());
      ctx.check(
        'diff against an empty table adds every service and destination',
        ops.length,
        TABLE.reduce((n, e) => n + 1 + e.destinations.length, 0),
      );
      await client.apply(ops);
      await client.setTimeouts(TIMEOUTS);
      await client.startDaemon(DAEMON);

      ctx.check('ipvsadm -Sn shows the table our client wrote', normalizeRules(await ctx.shOk('ipvsadm -Sn')), normalizeRules(SAVED));
      const thresholds = (await ctx.shOk('ipvsadm -Ln --thresholds'))
        .split('\n')
        .map((l) => /->\s+(\S+)\s+(\d+)\s+(\d+)/.exec(l))
        .filter((m) => m && (m[2] !== '0' || m[3] !== '0'))
        .map((m) => `${m![1]} ${m![2]} ${m![3]}`)
        .sort();
      ctx.check('ipvsadm -Ln --thresholds shows our thresholds', thresholds, [...THRESHOLDS].sort());
      ctx.check('ipvsadm -Ln --timeout shows our timeouts', (await ctx.shOk('ipvsadm -Ln --timeout')).trim(), TIMEOUTS_LINE);
      ctx.check('ipvsadm -Ln --daemon shows our sync daemon', (await ctx.shOk('ipvsadm -Ln --daemon')).trim(), DAEMON_LINE);

      // and our own reading agrees with what we wrote, so a second diff is empty
      const actual = await client.table();
      ctx.check('our client reads back the table it wrote', normalizeTable(actual), normalizeTable(TABLE));
      ctx.check('a diff of the written table against itself is empty', diff(TABLE, actual), []);
      ctx.check('our client reads back the timeouts', await client.getTimeouts(), TIMEOUTS);

      // the checker's steady state: one weight changes -> one operation, one netlink write
      const reweighted = TABLE.map((e, i) =>
        i !== 0
          ? e
          : {
              service: e.service,
              destinations: e.destinations.map((d, j) => (j === 1 ? { ...d, weight: 42 } : d)),
            },
      );
      const one = diff(reweighted, await client.table());
      const before = client.writes;
      await client.apply(one);
      ctx.check(
        'a one-weight change is one edit-destination',
        one.map((o) => o.op),
        ['edit-destination'],
      );
      ctx.check('and exactly one netlink write', client.writes - before, 1);
      ctx.check(
        'ipvsadm sees the new weight',
        (await ctx.shOk('ipvsadm -Sn')).split('\n').filter((l) => l.includes('-r 10.20.0.2:8080')),
        ['-a -t 10.10.0.1:80 -r 10.20.0.2:8080 -m -w 42'],
      );
      // a scheduler change edits the service in place (its destinations stay)
      const resched = reweighted.map((e, i) => (i !== 0 ? e : { ...e, service: { ...e.service, scheduler: 'wlc' } }));
      const edit = diff(resched, await client.table());
      await client.apply(edit);
      ctx.check(
        'a scheduler change is one edit-service',
        edit.map((o) => o.op),
        ['edit-service'],
      );
      ctx.check(
        'ipvsadm sees the new scheduler with the destinations kept',
        (await ctx.shOk('ipvsadm -Sn'))
          .split('\n')
          .filter((l) => l.includes('10.10.0.1:80'))
          .sort(),
        ['-A -t 10.10.0.1:80 -s wlc', '-a -t 10.10.0.1:80 -r 10.20.0.1:8080 -m -w 1', '-a -t 10.10.0.1:80 -r 10.20.0.2:8080 -m -w 42'],
      );
      ctx.check('our client reads back the sync daemon', await client.listDaemons(), [DAEMON]);

      await client.stopDaemon('master');
      ctx.check('stopping the daemon leaves none', await client.listDaemons(), []);
      await client.flush();
      ctx.check('flush empties the table', await client.listServices(), []);
    } finally {
      await client.flush().catch(() => {});
      await client.stopDaemon('master').catch(() => {});
      client.close();
    }
  },
};
export default scenario;
