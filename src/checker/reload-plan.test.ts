import { describe, expect, it } from 'vitest';
import { config, realServer, virtualServer } from '../../test/checker/model-kit.js';
import { diff } from '../ipvs/diff.js';
import { desiredTable, healthKey, type RealServerHealth, type TableState } from './desired.js';
import { planIpvsReload } from './reload-plan.js';

const empty: TableState = { health: new Map(), quorumUp: new Map() };

describe('planIpvsReload', () => {
  const web = () => virtualServer('10.0.0.1', 80, { realServers: [realServer('192.168.0.1', 80), realServer('192.168.0.2', 80)] });
  const live = desiredTable(config([web()]), empty).entries;

  it('the running file against the table it wrote: nothing to write', () => {
    expect(planIpvsReload(config([web()]), empty, live).writes).toEqual([]);
  });

  it('each added, removed and edited service and destination, with the netlink write it takes, in the diff order', () => {
    const edited = virtualServer('10.0.0.1', 80, { lbAlgo: 'wrr', realServers: [realServer('192.168.0.1', 80, { weight: 5 }), realServer('192.168.0.3', 80)] });
    const added = virtualServer('10.0.0.2', 443, { realServers: [realServer('192.168.0.9', 443)] });
    const plan = planIpvsReload(config([edited, added]), empty, live);
    expect(plan.servicesAdded).toEqual(['TCP 10.0.0.2:443']);
    expect(plan.servicesEdited).toEqual(['TCP 10.0.0.1:80']);
    expect(plan.servicesRemoved).toEqual([]);
    expect(plan.destinationsAdded).toEqual(['192.168.0.3:80 of TCP 10.0.0.1:80', '192.168.0.9:443 of TCP 10.0.0.2:443']);
    expect(plan.destinationsRemoved).toEqual(['192.168.0.2:80 of TCP 10.0.0.1:80']);
    expect(plan.destinationsEdited).toEqual(['192.168.0.1:80 of TCP 10.0.0.1:80']);
    expect(plan.writes).toEqual([
      'IPVS_CMD_SET_SERVICE TCP 10.0.0.1:80 scheduler wrr',
      'IPVS_CMD_DEL_DEST 192.168.0.2:80 of TCP 10.0.0.1:80',
      'IPVS_CMD_SET_DEST 192.168.0.1:80 of TCP 10.0.0.1:80 weight 5 masquerade',
      'IPVS_CMD_NEW_DEST 192.168.0.3:80 of TCP 10.0.0.1:80 weight 1 masquerade',
      'IPVS_CMD_NEW_SERVICE TCP 10.0.0.2:443 scheduler rr',
      'IPVS_CMD_NEW_DEST 192.168.0.9:443 of TCP 10.0.0.2:443 weight 1 masquerade',
    ]);
    // one write per operation the checker's diff would apply
    expect(plan.writes.length).toBe(diff(desiredTable(config([edited, added]), empty).entries, live).length);
  });

  it('a removed virtual server is one delete: the kernel drops its destinations with it', () => {
    const plan = planIpvsReload(config([]), empty, live);
    expect(plan.writes).toEqual(['IPVS_CMD_DEL_SERVICE TCP 10.0.0.1:80']);
    expect(plan.servicesRemoved).toEqual(['TCP 10.0.0.1:80']);
  });

  it('kept real servers keep their health: one that is down now stays out of the table', () => {
    const vs = web();
    const down = new Map<string, RealServerHealth>([[healthKey(vs, vs.realServers[1]!), { up: false, dynamicWeight: null }]]);
    const state: TableState = { health: down, quorumUp: new Map() };
    const installed = desiredTable(config([vs]), state).entries;
    expect(installed[0]!.destinations.map((d) => d.address)).toEqual(['192.168.0.1']);
    // the same file again, real servers re-created by the new load: still nothing to write
    expect(planIpvsReload(config([web()]), state, installed).writes).toEqual([]);
  });
});
