import { describe, expect, it } from 'vitest';
import { configOf } from './engine-testkit.js';
import { instanceSpecFromConfig, staticTrackedInterfaces } from './instance-spec.js';

const CONFIG = `track_group G {
  group {
    VI_1
  }
}
static_ipaddress {
  10.0.9.1/24 dev eth2 track_group G
  10.0.9.2/24 dev eth5 track_group G no_track
}
static_routes {
  10.8.0.0/24 via 10.1.0.254 dev eth1 track_group G
  10.8.1.0/24 via 10.1.0.254 dev eth6
}
static_rules {
  from 10.0.0.0/24 iif eth3 table 100 priority 50 track_group G
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  track_interface {
    eth1 weight 10
  }
  virtual_ipaddress {
    10.0.0.100/24
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  priority 100
  virtual_ipaddress {
    10.0.0.101/24
  }
}
`;

describe('track_group on static entries (keepalived vrrp_static_track.c)', () => {
  const cfg = configOf(CONFIG);

  it("the group's instances track the address's dev, the route's dev and the rule's iif; not a no_track entry nor one without the group", () => {
    expect(staticTrackedInterfaces('VI_1', cfg)).toEqual(['eth2', 'eth1', 'eth3']);
    expect(staticTrackedInterfaces('VI_2', cfg)).toEqual([]);
  });

  it('unweighted: an interface the instance tracks with a weight loses it (FAULT while down), as add_vrrp_to_interface does', () => {
    const spec = instanceSpecFromConfig(cfg.vrrpInstances[0]!, cfg, { localAddress: '10.0.0.1' });
    expect(spec.tracking.interfaces).toEqual([
      { name: 'eth0', weight: 0, reverse: false },
      { name: 'eth1', weight: 0, reverse: false },
      { name: 'eth2', weight: 0, reverse: false },
      { name: 'eth3', weight: 0, reverse: false },
    ]);
  });
});

describe("an instance's own entries on other interfaces (keepalived vrrp_complete_instance)", () => {
  const cfg = configOf(`vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  track_interface {
    eth4 weight 10
  }
  virtual_ipaddress {
    10.0.0.100/24
    10.0.1.100/24 dev eth0
    10.0.2.100/24 dev eth1
    10.0.3.100/24 dev eth5 no_track
  }
  virtual_ipaddress_excluded {
    10.0.4.100/24 dev eth2
  }
  virtual_routes {
    10.9.0.0/24 via 10.0.0.254 dev eth3
    10.9.1.0/24 via 10.0.0.254 dev eth6 no_track
    10.9.2.0/24 via 10.0.0.254 dev eth4
  }
  virtual_rules {
    from 10.0.0.0/24 iif eth7 table 100 priority 100
  }
}
`);

  it('tracks, unweighted, every other interface a VIP, eVIP, route or rule names, except no_track entries', () => {
    const spec = instanceSpecFromConfig(cfg.vrrpInstances[0]!, cfg, { localAddress: '10.0.0.1' });
    expect(spec.tracking.interfaces).toEqual([
      { name: 'eth0', weight: 0, reverse: false },
      { name: 'eth4', weight: 0, reverse: false },
      { name: 'eth1', weight: 0, reverse: false },
      { name: 'eth2', weight: 0, reverse: false },
      { name: 'eth3', weight: 0, reverse: false },
      { name: 'eth7', weight: 0, reverse: false },
    ]);
  });
});
