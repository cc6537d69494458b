import { afterAll, describe, expect, it } from 'vitest';
import { encodeRule } from '../netlink/route/codec.js';
import { decodeRule } from '../netlink/route/codec.js';
import { configOf, removedRoute, removeConfigFiles } from './engine-testkit.js';
import { ruleToSpec } from './routing.js';
import { ownerOfRemovedRoute, ownerOfRemovedRule, routeWatch, ruleMatches } from './route-tracking.js';

afterAll(removeConfigFiles);

const config = configOf(`
track_group TG {
  group {
    VI_1
  }
}
static_routes {
  10.8.0.0/24 via 10.0.0.254 dev eth0 metric 9
  fd00:8::/64 via fd00::254 dev eth0 track_group TG
  10.8.9.0/24 via 10.0.0.254 dev eth0 no_track
}
static_rules {
  to 10.8.0.0/24 table 100 priority 50
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.100/24
  }
  virtual_routes {
    10.9.0.0/24 via 10.0.0.254 dev eth0
    10.9.1.0/24 via 10.0.0.254 dev eth0 metric 5 table 100
    10.9.3.0/24 via 10.0.0.254
    10.9.2.0/24 via 10.0.0.254 dev eth0 no_track
  }
  virtual_rules {
    fwmark 7 table 101 priority 101
    from 10.0.0.0/24 goto 200 priority 102
    from 10.0.0.0/24 table 101 priority 103 no_track
  }
}
`);
const eth0 = (n: string) => (n === 'eth0' ? 2 : null);
const notice = removedRoute;
const routes = config.vrrpInstances;

describe('which route and rule groups keepalived listens to', () => {
  it("the families of instances' tracked virtual routes/rules and of static entries with a track_group", () => {
    expect(routeWatch(config)).toEqual({ ipv4Routes: true, ipv6Routes: true, ipv4Rules: true, ipv6Rules: false });
    expect(routeWatch({ ...config, vrrpInstances: [] })).toEqual({ ipv4Routes: false, ipv6Routes: true, ipv4Rules: false, ipv6Rules: false });
  });
});

describe('whose route a removal was (keepalived route_is_ours)', () => {
  it("an instance's route: table, destination, metric, tos and its dev must all agree", () => {
    expect(ownerOfRemovedRoute(notice('10.9.0.0', 24), routes, config.staticRoutes, eth0)).toEqual({
      kind: 'instance',
      instance: 'VI_1',
      text: '10.9.0.0/24 via 10.0.0.254 dev eth0',
    });
    expect(ownerOfRemovedRoute(notice('10.9.0.0', 24, { oif: 3 }), routes, config.staticRoutes, eth0)).toBeNull();
    expect(ownerOfRemovedRoute(notice('10.9.0.0', 25), routes, config.staticRoutes, eth0)).toBeNull();
    expect(ownerOfRemovedRoute(notice('10.9.0.0', 24, { tos: 4 }), routes, config.staticRoutes, eth0)).toBeNull();
    expect(ownerOfRemovedRoute(notice('10.9.1.0', 24, { table: 100, priority: 5 }), routes, config.staticRoutes, eth0)?.kind).toBe('instance');
    expect(ownerOfRemovedRoute(notice('10.9.1.0', 24, { table: 100, priority: 0 }), routes, config.staticRoutes, eth0)).toBeNull();
    expect(ownerOfRemovedRoute(notice('10.9.1.0', 24, { priority: 5 }), routes, config.staticRoutes, eth0)).toBeNull();
    // keepalived does not track a route without a dev (it warns at the line)
    expect(ownerOfRemovedRoute(notice('10.9.3.0', 24), routes, config.staticRoutes, eth0)).toBeNull();
  });

  it('no_track, or a protocol other than keepalived (18), is nobody', () => {
    expect(ownerOfRemovedRoute(notice('10.9.2.0', 24), routes, config.staticRoutes, eth0)).toBeNull();
    expect(ownerOfRemovedRoute(notice('10.9.0.0', 24, { protocol: 4 }), routes, config.staticRoutes, eth0)).toBeNull();
    expect(ownerOfRemovedRoute(notice('10.8.9.0', 24), routes, config.staticRoutes, eth0)).toBeNull();
  });

  it('a static route matches whatever its metric and device; IPv6 destinations compare as addresses', () => {
    expect(ownerOfRemovedRoute(notice('10.8.0.0', 24, { priority: 1, oif: 9 }), routes, config.staticRoutes, eth0)).toMatchObject({
      kind: 'static-route',
      route: { text: '10.8.0.0/24 via 10.0.0.254 dev eth0 metric 9' },
    });
    expect(ownerOfRemovedRoute(notice('fd00:8:0::', 64, { family: 6, priority: 1024 }), routes, config.staticRoutes, eth0)?.kind).toBe('static-route');
  });
});

describe('whose rule a removal was (keepalived compare_rule)', () => {
  const [fwmarkRule, gotoRule, untracked] = config.vrrpInstances[0]!.virtualRules;
  const asKernelSends = (r: typeof fwmarkRule) => decodeRule(encodeRule({ ...ruleToSpec(r!), protocol: 18 }))!;

  it('a rule read back from its own netlink message is itself, and only itself', () => {
    expect(ruleMatches(asKernelSends(fwmarkRule), fwmarkRule!)).toBe(true);
    expect(ruleMatches(asKernelSends(gotoRule), gotoRule!)).toBe(true);
    expect(ruleMatches(asKernelSends(fwmarkRule), gotoRule!)).toBe(false);
    expect(ruleMatches(asKernelSends(untracked), untracked!)).toBe(false);
  });

  it('a mark without a mask is reported by the kernel with mask 0xffffffff, and still ours', () => {
    const k = { ...asKernelSends(fwmarkRule), fwmask: 0xffffffff };
    expect(ruleMatches(k, fwmarkRule!)).toBe(true);
    expect(ruleMatches({ ...k, fwmask: 0xff }, fwmarkRule!)).toBe(false);
  });

  it("instances' rules first, then static ones; another protocol is nobody's", () => {
    expect(ownerOfRemovedRule(asKernelSends(gotoRule), routes, config.staticRules)).toMatchObject({ kind: 'instance', instance: 'VI_1' });
    const stat = decodeRule(encodeRule(ruleToSpec(config.staticRules[0]!)))!;
    expect(ownerOfRemovedRule(stat, routes, config.staticRules)).toMatchObject({ kind: 'static-rule' });
    expect(ownerOfRemovedRule({ ...stat, protocol: 3 }, routes, config.staticRules)).toBeNull();
  });
});
