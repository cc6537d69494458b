/**
 * The real ipvsadm writes the fixture table (`ipvsadm -R`), timeouts and a sync daemon;
 * our client must read back exactly the fixture's model.
 */
import { IpvsClient } from '../../../src/ipvs/client.js';
import type { Scenario } from '../scenario.js';
import {
  DAEMON, DAEMON_ARGS, RESTORE, TABLE, TIMEOUTS, TIMEOUTS_ARGS, normalizeTable,
} from '../ipvs-fixture.js';

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
      ctx.check('the kernel sets HASHED on every service; the model never shows it',
        table.every((e) => Object.keys(e.service.flags).sort().join() === 'onePacket,persistent,sched3,schedFallback,schedPort'), true);
      ctx.check('our client reads the timeouts ipvsadm set', await client.getTimeouts(), TIMEOUTS);
      ctx.check('our client reads the sync daemon ipvsadm started', await client.listDaemons(), [DAEMON]);

      // single-service get agrees with the dump, and a missing one is null
      const first = TABLE[0]!.service;
      const got = await client.getService(first);
      ctx.check('getService finds one service', got && normalizeTable([{ service: got, destinations: [] }])[0]!.service,
        normalizeTable([{ service: first, destinations: [] }])[0]!.service);
      ctx.check('getService of a missing service is null',
        await client.getService({ family: 'inet', protocol: 'tcp', address: '10.10.99.99', port: 1 }), null);

      const info = await client.info();
      const header = (await ctx.shOk('ipvsadm -Ln')).split('\n')[0];
      ctx.check('info matches the ipvsadm header', `IP Virtual Server version ${info.version} (size=${info.connTableSize})`, header);
    } finally {
      await ctx.sh('ipvsadm -C; ipvsadm --stop-daemon master');
      client.close();
    }
  },
};
export default scenario;
