/**
 * The real ipvsadm writes the fixture table (`ipvsadm -R`), timeouts and a sync daemon;
 * our client must read back exactly the fixture's model.
 */
import { IpvsClient } from '../../../src/ipvs/client.js';
import type { Scenario } from '../scenario.js';
import { DAEMON, DAEMON_ARGS, RESTORE, TABLE, TIMEOUTS, TIMEOUTS_ARGS, normalizeTable } from '../ipvs-fixture.js';

const scenario: Scenario = {
  name: 'ipvs-parity-read',
  async run(ctx) {
    const client = await IpvsClient.open();
    try {
      await ctx.shOk('ipvsadm -C');
      const restore = await ctx.sh(`ipvsadm -R <<'EOF'\n${RESTORE.trim()}\nEOF`);
      ctx.check('ipvsadm -R accepts the fixture', { code: restore.code, stderr: restore.stderr }, { code: 0, stderr: '' });
      await ctx.shOk(`ipvsadm ${TIMEOUTS_ARGS} && ipvsadm ${DAEMON_ARGS}`);

      const table = await client.table();
      ctx.check('our client reads the table ipvsadm wrote', normalizeTable(table), normalizeTable(TABLE));
      ctx.check(
        'the kernel sets HASHED on every service; the model never shows it',
        table.every((e) => Object.keys(e.service.flags).sort().join() === 'onePacket,persistent,sched3,schedFallback,schedPort'),
        true,
      );
      ctx.check('our client reads the timeouts ipvsadm set', await client.getTimeouts(), TIMEOUTS);
      ctx.check('our client reads the sync daemon ipvsadm started', await client.listDaemons(), [DAEMON]);
      // a backup daemon alongside, with the kernel's defaults for what ipvsadm leaves out
      await ctx.shOk('ipvsadm --start-daemon backup --mcast-interface lo --syncid 6');
      const backup = (await client.listDaemons()).find((d) => d.state === 'backup');
      ctx.check(
        'our client reads a backup daemon with kernel defaults',
        backup && { state: backup.state, interface: backup.interface, syncId: backup.syncId, group: backup.group, port: backup.port, ttl: backup.ttl },
        { state: 'backup', interface: 'lo', syncId: 6, group: '224.0.0.81', port: 8848, ttl: 1 },
      );
      await client.stopDaemon('backup');
      ctx.check(
        'stopping the backup daemon leaves the master',
        (await client.listDaemons()).map((d) => d.state),
        ['master'],
      );

      // single-service get agrees with the dump, and a missing one is null
      const first = TABLE[0]!.service;
      const got = await client.getService(first);
      ctx.check(
        'getService finds one service',
        got && normalizeTable([{ service: got, destinations: [] }])[0]!.service,
        normalizeTable([{ service: first, destinations: [] }])[0]!.service,
      );
      ctx.check('getService of a missing service is null', await client.getService({ family: 'inet', protocol: 'tcp', address: '10.10.99.99', port: 1 }), null);

      const info = await client.info();
      const header = (await ctx.shOk('ipvsadm -Ln')).split('\n')[0];
      ctx.check('info matches the ipvsadm header', `IP Virtual Server version ${info.version} (size=${info.connTableSize})`, header);
    } finally {
      await ctx.sh('ipvsadm -C; ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup');
      client.close();
    }
  },
};
export default scenario;
