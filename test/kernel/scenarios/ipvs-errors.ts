/**
 * Every kernel error a user can cause comes back as an IpvsError with the kernel's errno,
 * its symbolic code and a sentence (never a bare string), and leaves the table unchanged.
 */
import { IpvsClient } from '../../../src/ipvs/client.js';
import { IpvsError } from '../../../src/ipvs/codec.js';
import type { Destination, Service } from '../../../src/ipvs/model.js';
import type { Scenario } from '../scenario.js';

const svc: Service = {
  family: 'inet',
  protocol: 'tcp',
  address: '10.30.0.1',
  port: 80,
  scheduler: 'rr',
  flags: { persistent: false, onePacket: false, schedFallback: false, schedPort: false, sched3: false },
  timeout: 0,
  prefix: 32,
  pe: null,
};
const dst: Destination = {
  family: 'inet',
  address: '10.30.1.1',
  port: 80,
  forwarding: 'masquerade',
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  tunnel: null,
};
const missing: Service = { ...svc, address: '10.30.0.99' };

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    if (!(e instanceof IpvsError)) return `untyped ${String(e)}`;
    return { isIpvsError: true, errno: e.errno, code: e.code, sentence: /^Cannot .+\.$/.test(e.message), message: e.message };
  }
}
const expected = (errno: number, code: string, message: string) => ({ isIpvsError: true, errno, code, sentence: true, message });

const scenario: Scenario = {
  name: 'ipvs-errors',
  async run(ctx) {
    const client = await IpvsClient.open();
    try {
      await client.flush();
      await client.addService(svc);
      await client.addDestination(svc, dst);

      ctx.check(
        'duplicate service',
        await failure(client.addService(svc)),
        expected(17, 'EEXIST', 'Cannot add service tcp 10.30.0.1:80: service tcp 10.30.0.1:80 already exists.'),
      );
      ctx.check(
        'delete a missing service',
        await failure(client.deleteService(missing)),
        expected(3, 'ESRCH', 'Cannot delete service tcp 10.30.0.99:80: the virtual service does not exist.'),
      );
      ctx.check(
        'edit a missing service',
        await failure(client.editService(missing)),
        expected(3, 'ESRCH', 'Cannot edit service tcp 10.30.0.99:80: the virtual service does not exist.'),
      );
      ctx.check(
        'bad scheduler name',
        await failure(client.addService({ ...svc, port: 81, scheduler: 'bogus' })),
        expected(2, 'ENOENT', 'Cannot add service tcp 10.30.0.1:81: scheduler "bogus" not found (no kernel module ip_vs_bogus).'),
      );
      ctx.check(
        'duplicate destination',
        await failure(client.addDestination(svc, dst)),
        expected(17, 'EEXIST', 'Cannot add destination [10.30.1.1]:80 of tcp 10.30.0.1:80: destination [10.30.1.1]:80 of tcp 10.30.0.1:80 already exists.'),
      );
      ctx.check(
        'delete a missing destination',
        await failure(client.deleteDestination(svc, { ...dst, address: '10.30.1.9' })),
        expected(2, 'ENOENT', 'Cannot delete destination [10.30.1.9]:80 of tcp 10.30.0.1:80: the destination does not exist in that service.'),
      );
      ctx.check(
        'destination of a missing service',
        await failure(client.addDestination(missing, dst)),
        expected(3, 'ESRCH', 'Cannot add destination [10.30.1.1]:80 of tcp 10.30.0.99:80: the virtual service does not exist.'),
      );
      ctx.check(
        'GUE tunnel without a port',
        await failure(client.addDestination(svc, { ...dst, address: '10.30.1.2', forwarding: 'tunnel', tunnel: { type: 'gue', port: 0, flags: 0 } })),
        expected(
          22,
          'EINVAL',
          'Cannot add destination [10.30.1.2]:80 of tcp 10.30.0.1:80: the kernel rejected the request as invalid (check ports, weights, thresholds, netmask, tunnel settings).',
        ),
      );
      ctx.check(
        'stop a sync daemon that is not running',
        await failure(client.stopDaemon('backup')),
        expected(3, 'ESRCH', 'Cannot stop backup sync daemon: no such sync daemon is running.'),
      );

      // a failing batch reports its first error, typed, and the other operations still ran
      const ipvsErr = await failure(
        client.apply([
          { op: 'add-destination', service: svc, destination: { ...dst, address: '10.30.1.3' } },
          { op: 'add-service', service: svc },
        ]),
      );
      ctx.check(
        'apply reports the failing operation',
        ipvsErr,
        expected(17, 'EEXIST', 'Cannot add service tcp 10.30.0.1:80: service tcp 10.30.0.1:80 already exists.'),
      );
      ctx.check('the table holds only what succeeded', (await client.listDestinations(svc)).map((d) => d.address).sort(), ['10.30.1.1', '10.30.1.3']);
      ctx.check('the kernel kept one service', (await client.listServices()).length, 1);
    } finally {
      await client.flush().catch(() => {});
      client.close();
    }
  },
};
export default scenario;
