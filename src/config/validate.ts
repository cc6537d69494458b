// Cross-object validation of a built model: required keywords, references between objects,
// duplicates, and the semantic traps keepalived users fall into. Pure: the host's interface
// list is passed in by the caller (the CLI reads /sys/class/net).
import type { BuildFacts } from './build.js';
import { syncGroupMemberPos } from './build.js';
import { TRACKED_BLOCK, type TrackKind } from './build-values.js';
import type { KeepalivedConfig, RealServer, SourcePos, TrackRef, VirtualServer, VrrpInstance } from './model.js';
import type { Diagnostics } from './schema-check.js';
import { validateBgpAnnounce } from './validate-announce.js';

/** Where the other one is: `line N` in the same file, else `file:N`. */
const at = (p: SourcePos, here?: SourcePos): string => (here && here.file === p.file ? `line ${p.line}` : `${p.file}:${p.line}`);

export function validateConfig(config: KeepalivedConfig, facts: BuildFacts, diags: Diagnostics): void {
  validateInstances(config, facts, diags);
  validateReferences(config, facts, diags);
  validateVirtualServers(config, facts, diags);
  validateBgpAnnounce(config, diags);
}

function validateInstances(config: KeepalivedConfig, facts: BuildFacts, diags: Diagnostics): void {
  const byName = new Map<string, VrrpInstance>();
  const byKey = new Map<string, VrrpInstance>();
  const duplicates = new Set<VrrpInstance>();
  for (const inst of config.vrrpInstances) {
    const prev = byName.get(inst.name);
    if (prev) {
      diags.lenient(inst.pos, 'duplicate', `vrrp_instance ${inst.name} is already defined at ${at(prev.pos, inst.pos)}: keepalived ignores this second block`);
      duplicates.add(inst);
      continue;
    }
    byName.set(inst.name, inst);

    if (!facts.vridWritten.has(inst)) {
      diags.error(inst.pos, 'missing-keyword', `vrrp_instance ${inst.name} has no \`virtual_router_id\` (required, 1-255)`);
    }
    if (!inst.interface && inst.unicastPeers.length === 0) {
      diags.error(
        inst.pos,
        'missing-keyword',
        `vrrp_instance ${inst.name} has no \`interface\` (required unless global_defs sets \`default_interface\` or the instance uses unicast_peer)`,
      );
    }
    const nopreempt = facts.nopreemptPos.get(inst);
    if (nopreempt && inst.nopreempt && inst.state === 'MASTER') {
      diags.lenient(
        nopreempt,
        'nopreempt-master',
        `vrrp_instance ${inst.name}: \`nopreempt\` has no effect with \`state MASTER\` (keepalived reports it and clears it); write \`state BACKUP\` on every node for nopreempt to work`,
      );
      inst.nopreempt = false;
    }
    if (inst.priority === 255 && inst.state === 'BACKUP' && facts.statePos.has(inst)) {
      diags.warn(
        facts.statePos.get(inst)!,
        'owner-backup',
        `vrrp_instance ${inst.name}: priority 255 makes it the address owner, which always starts as MASTER despite \`state BACKUP\``,
      );
    }
    // One instance, one address family: keepalived refuses to mix them in virtual_ipaddress.
    const fam = inst.family;
    inst.virtualIpaddresses = inst.virtualIpaddresses.filter((vip) => {
      if (vip.family === fam) return true;
      diags.lenient(
        vip.pos,
        'mixed-family',
        `vrrp_instance ${inst.name} (VRRPv${inst.version}) is IPv${fam} but virtual_ipaddress ${vip.address} is IPv${vip.family}; one instance carries one address family: keepalived ignores it; move it to virtual_ipaddress_excluded or a separate instance`,
      );
      return false;
    });
    if (inst.virtualIpaddresses.length === 0) {
      // keepalived (vrrp_complete_instance): required for VRRPv3, IPv6 and strict mode (its
      // VRRP process then exits), a reported remark for VRRPv2
      const required = inst.version === 3 || inst.family === 6 || inst.strictMode;
      const msg = `vrrp_instance ${inst.name} has no usable virtual_ipaddress`;
      if (required)
        diags.error(
          inst.pos,
          'no-vip',
          `${msg}: keepalived requires one with ${inst.version === 3 ? 'VRRPv3' : inst.family === 6 ? 'IPv6' : 'strict mode'} and does not start`,
        );
      else diags.lenient(inst.pos, 'no-vip', `${msg}: keepalived runs it with none ("at least one is sensible")`);
    }
    for (const [what, addr] of [
      ['unicast_src_ip', inst.unicastSrcIp],
      ['mcast_src_ip', inst.mcastSrcIp],
    ] as const) {
      if (addr && (addr.includes(':') ? 6 : 4) !== fam && inst.virtualIpaddresses.length > 0) {
        diags.error(inst.pos, 'mixed-family', `vrrp_instance ${inst.name} is IPv${fam} but its ${what} ${addr} is not`);
      }
    }
    for (const peer of inst.unicastPeers) {
      if ((peer.address.includes(':') ? 6 : 4) !== fam) {
        diags.error(inst.pos, 'mixed-family', `vrrp_instance ${inst.name} is IPv${fam} but its unicast_peer ${peer.address} is not`);
      }
    }
    const vridPos = facts.vridPos.get(inst);
    if (vridPos) {
      const key = `${inst.virtualRouterId}/${inst.family}/${inst.interface}`;
      const other = byKey.get(key);
      if (other) {
        diags.error(
          vridPos,
          'duplicate-vrid',
          `virtual_router_id ${inst.virtualRouterId} (IPv${inst.family}) on ${inst.interface || 'the default interface'} is already used by vrrp_instance ${other.name} at ${at(other.pos, vridPos)}; VRIDs must differ per interface and family`,
        );
      } else byKey.set(key, inst);
    }
  }
  dropDuplicates(config, duplicates);
}

/** Objects keepalived leaves out after logging them, as it starts. */
function dropDuplicates(config: KeepalivedConfig, duplicates: ReadonlySet<VrrpInstance>): void {
  if (duplicates.size) config.vrrpInstances = config.vrrpInstances.filter((i) => !duplicates.has(i));
}

function validateReferences(config: KeepalivedConfig, facts: BuildFacts, diags: Diagnostics): void {
  const scripts = new Map<string, SourcePos>();
  // keepalived looks a script up by name and finds the first one: a second block is never used
  config.vrrpScripts = config.vrrpScripts.filter((s) => {
    const first = scripts.get(s.name);
    if (first)
      diags.lenient(s.pos, 'duplicate', `vrrp_script ${s.name} is already defined at ${at(first, s.pos)}: keepalived uses that one and never this one`);
    else scripts.set(s.name, s.pos);
    return !first;
  });
  const files = new Map<string, SourcePos>();
  for (const t of config.trackFiles) if (!files.has(t.name)) files.set(t.name, t.pos);
  // keepalived looks a process up by name and finds the first one, as for scripts
  const processes = new Map<string, SourcePos>();
  for (const t of config.trackProcesses) if (!processes.has(t.name)) processes.set(t.name, t.pos);
  const instances = new Map(config.vrrpInstances.map((i) => [i.name, i]));
  const trackers = [
    ...config.vrrpInstances.map((i) => ({ o: i, what: `vrrp_instance ${i.name}` })),
    ...config.vrrpSyncGroups.map((g) => ({ o: g, what: `vrrp_sync_group ${g.name}` })),
  ];
  for (const { o, what } of trackers) {
    // keepalived: "track script X not found, ignoring...": the instance runs without it
    const resolved = (entry: Exclude<TrackKind, 'track_interface'>, defined: ReadonlyMap<string, SourcePos>) => (r: TrackRef) => {
      const kind = TRACKED_BLOCK[entry];
      const def = defined.get(r.name);
      if (def && !facts.readBeforeDefinition.has(r)) return true;
      if (def)
        diags.lenient(
          r.pos,
          'unresolved',
          `${what}: ${entry} \`${r.name}\` is defined further down (${at(def, r.pos)}): keepalived looks the name up where it reads this entry, so it ignores it; move the ${kind} block above`,
        );
      else
        diags.lenient(
          r.pos,
          'unresolved',
          `${what}: ${entry} \`${r.name}\` is not a defined ${kind}${listHint([...defined.keys()])}; keepalived ignores this entry`,
        );
      return false;
    };
    o.trackScripts = o.trackScripts.filter(resolved('track_script', scripts));
    o.trackFiles = o.trackFiles.filter(resolved('track_file', files));
    o.trackProcesses = o.trackProcesses.filter(resolved('track_process', processes));
  }
  for (const g of config.vrrpSyncGroups) {
    const positions = syncGroupMemberPos.get(g) ?? [];
    // keepalived leaves out a member it cannot take, and a group left with none
    g.group = g.group.filter((name, i) => {
      const pos = positions[i] ?? g.pos;
      const inst = instances.get(name);
      if (!inst) {
        diags.lenient(
          pos,
          'unresolved',
          `vrrp_sync_group ${g.name}: member \`${name}\` is not a defined vrrp_instance${listHint([...instances.keys()])}; keepalived ignores it`,
        );
        return false;
      }
      if (inst.syncGroup && inst.syncGroup !== g.name) {
        diags.lenient(
          pos,
          'duplicate',
          `vrrp_instance ${name} is already in vrrp_sync_group ${inst.syncGroup}; an instance can be in one sync group only: keepalived ignores it here`,
        );
        return false;
      }
      inst.syncGroup = g.name;
      return true;
    });
    if (g.group.length === 0) {
      diags.lenient(g.pos, 'empty-sync-group', `vrrp_sync_group ${g.name} has no member vrrp_instance (list them in \`group { }\`): keepalived removes it`);
    }
  }
  config.vrrpSyncGroups = config.vrrpSyncGroups.filter((g) => g.group.length > 0);
  for (const inst of config.vrrpInstances) trackingAsKeepalivedCompletesIt(config, inst, diags);
  const lsd = config.globalDefs.lvsSyncDaemon;
  if (lsd && lsd.instance && !instances.has(lsd.instance) && facts.lvsSyncDaemonPos) {
    diags.error(facts.lvsSyncDaemonPos, 'unresolved', `lvs_sync_daemon: \`${lsd.instance}\` is not a defined vrrp_instance${listHint([...instances.keys()])}`);
  }
  if (lsd) {
    // keepalived's defaults: the sync id is the instance's VRID (0 without one), port 8848.
    lsd.syncId ??= instances.get(lsd.instance)?.virtualRouterId ?? 0;
    lsd.port ??= 8848;
  }
}

/**
 * What keepalived 2.2.7 does to an instance's tracking when it completes it (vrrp.c,
 * vrrp_complete_instance): its own interface is always tracked (weight 0), so an entry naming
 * it goes; a member of a sync group without sync_group_tracking_weight gets weight 0 on its
 * interfaces and loses its weighted scripts (and files but those of the default weight 1,
 * which become 0); an address owner (priority 255) loses every weighted entry.
 */
function trackingAsKeepalivedCompletesIt(config: KeepalivedConfig, inst: VrrpInstance, diags: Diagnostics): void {
  inst.trackInterfaces = inst.trackInterfaces.filter((r) => {
    if (r.name !== inst.interface) return true;
    diags.lenient(
      r.pos,
      'own-interface',
      `vrrp_instance ${inst.name} tracks its own interface ${r.name}: keepalived always does (a failure is FAULT) and ignores this entry`,
    );
    return false;
  });
  const group = inst.syncGroup ? config.vrrpSyncGroups.find((g) => g.name === inst.syncGroup) : undefined;
  const inSync = group !== undefined && !group.trackingWeight;
  if (!inSync && inst.priority !== 255) return;
  const why = inSync ? `it is in vrrp_sync_group ${group.name} (without sync_group_tracking_weight)` : 'it is the address owner (priority 255)';
  const weightOf = (r: TrackRef, own: number | undefined) => r.weight ?? own ?? 0;
  inst.trackInterfaces = inst.trackInterfaces.filter((r) => {
    if (weightOf(r, 0) === 0) return true;
    diags.lenient(
      r.pos,
      'weight-ignored',
      `vrrp_instance ${inst.name}: the weight of track_interface ${r.name} is ignored because ${why}: keepalived ${inSync ? 'uses weight 0 (a failure is FAULT)' : 'does not track it'}`,
    );
    if (inSync) r.weight = 0;
    return inSync;
  });
  inst.trackScripts = inst.trackScripts.filter((r) => {
    if (weightOf(r, config.vrrpScripts.find((s) => s.name === r.name)?.weight) === 0) return true;
    diags.lenient(
      r.pos,
      'weight-ignored',
      `vrrp_instance ${inst.name}: track_script ${r.name} has a weight, and ${why}: keepalived ignores this entry (give it weight 0 to make a failure FAULT)`,
    );
    return false;
  });
  inst.trackFiles = inst.trackFiles.filter((r) => {
    const w = weightOf(r, config.trackFiles.find((f) => f.name === r.name)?.weight);
    if (w === 0) return true;
    if (w === 1) {
      diags.lenient(
        r.pos,
        'weight-ignored',
        `vrrp_instance ${inst.name}: track_file ${r.name} has the default weight 1, and ${why}: keepalived uses weight 0 (write \`weight 0\`)`,
      );
      r.weight = 0;
      return true;
    }
    diags.lenient(r.pos, 'weight-ignored', `vrrp_instance ${inst.name}: track_file ${r.name} has weight ${w}, and ${why}: keepalived ignores this entry`);
    return false;
  });
}

function validateVirtualServers(config: KeepalivedConfig, facts: BuildFacts, diags: Diagnostics): void {
  const groups = new Set<string>();
  for (const g of config.virtualServerGroups) {
    if (groups.has(g.name)) diags.error(g.pos, 'duplicate', `virtual_server_group ${g.name} is defined twice`);
    groups.add(g.name);
  }
  const seen = new Map<string, VirtualServer>();
  const dropped = new Set<VirtualServer>();
  for (const vs of config.virtualServers) {
    const k = vs.key;
    if (k.kind === 'group' && groups.has(k.group)) {
      // keepalived takes the service's family from its first real (or sorry) server and drops
      // it when the group's addresses are of the other family, or of both ("address family
      // doesn't match virtual server - ignoring")
      const families = new Set(config.virtualServerGroups.find((g) => g.name === k.group)!.members.flatMap((m) => (m.kind === 'fwmark' ? [] : [m.family])));
      const own = vs.realServers[0]?.family ?? vs.sorryServer?.family;
      if (own && (families.size > 1 || (families.size === 1 && !families.has(own)))) {
        diags.lenient(
          facts.vsGroupPos.get(vs) ?? vs.pos,
          'mixed-family',
          `virtual_server group ${k.group} holds IPv${[...families].join(' and IPv')} addresses but its real servers are IPv${own}: keepalived ignores this virtual_server`,
        );
        dropped.add(vs);
        continue;
      }
    }
    if (k.kind === 'group' && !groups.has(k.group)) {
      // keepalived: "Virtual server group X specified but not configured - ignoring virtual server"
      diags.lenient(
        facts.vsGroupPos.get(vs) ?? vs.pos,
        'unresolved',
        `virtual_server group \`${k.group}\` is not a defined virtual_server_group${listHint([...groups])}: keepalived ignores this virtual_server`,
      );
      dropped.add(vs);
      continue;
    }
    const id =
      k.kind === 'ip' ? `${k.address}:${k.port}/${vs.protocol}` : k.kind === 'fwmark' ? `fwmark ${k.fwmark}/${k.family}` : `group ${k.group}/${vs.protocol}`;
    const prev = seen.get(id);
    if (prev) {
      // keepalived takes both and adds the same service twice (the kernel's "exists" is not an
      // error to it): the service keeps the first one's settings and gets both's real servers
      diags.lenient(
        vs.pos,
        'duplicate',
        `virtual_server ${id} is already defined at ${at(prev.pos, vs.pos)}: keepalived keeps that one's settings and adds this one's real servers to it`,
      );
      const more = vs.realServers.filter((rs) => !prev.realServers.some((o) => o.address === rs.address && o.port === rs.port));
      if (more.length) prev.realServers = [...prev.realServers, ...more];
      dropped.add(vs);
      continue;
    }
    seen.set(id, vs);
    // Pairwise for the usual handful of real servers (no allocation), a Map beyond.
    const list = vs.realServers;
    // keepalived: "real server ... is duplicated - removing second rs"
    let twice: Set<RealServer> | null = null;
    const duplicate = (rs: RealServer, first: SourcePos) => {
      diags.lenient(
        rs.pos,
        'duplicate',
        `real_server ${rs.address} ${rs.port} is already in this virtual_server at ${at(first, rs.pos)}: keepalived removes this one`,
      );
      (twice ??= new Set()).add(rs);
    };
    if (list.length <= 32) {
      for (let i = 1; i < list.length; i++) {
        const rs = list[i]!;
        for (let j = 0; j < i; j++) {
          const o = list[j]!;
          if (o.port === rs.port && o.address === rs.address) {
            duplicate(rs, o.pos);
            break;
          }
        }
      }
    } else {
      const rsSeen = new Map<string, SourcePos>();
      for (const rs of list) {
        const rid = rs.address + ' ' + rs.port;
        const p = rsSeen.get(rid);
        if (p) duplicate(rs, p);
        else rsSeen.set(rid, rs.pos);
      }
    }
    if (twice) vs.realServers = list.filter((rs) => !twice!.has(rs));
    forwardingPorts(config, vs, diags);
  }
  if (dropped.size) config.virtualServers = config.virtualServers.filter((vs) => !dropped.has(vs));
}

/**
 * DR and TUN hand packets on unchanged: a real server behind them gets the service's port,
 * whatever the config says. keepalived 2.2.7 (seen in the VM) resets such a real server's
 * port to the virtual server's, clears it under a fwmark service, and warns; its checkers
 * then connect to that port. In a group each member service keeps its own port in IPVS
 * (desired.ts), and keepalived only warns. NAT rewrites ports: nothing to do.
 * keepalived's checkers took their address from the real server before the reset, so they
 * still connect to the port written (its dump: RPORT 25, the SMTP_CHECK's Dest :2525); a
 * checker without connect_port is given that port here to do the same.
 */
function forwardingPorts(config: KeepalivedConfig, vs: VirtualServer, diags: Diagnostics): void {
  const k = vs.key;
  const memberPorts = new Set<number>();
  if (k.kind === 'group') {
    for (const m of config.virtualServerGroups.find((g) => g.name === k.group)?.members ?? []) if (m.kind !== 'fwmark') memberPorts.add(m.port);
  }
  for (const rs of vs.realServers) {
    const kind = rs.lbKind ?? vs.lbKind;
    if (kind === 'NAT') continue;
    if (k.kind === 'ip' && rs.port !== k.port) {
      diags.warn(
        rs.pos,
        'port-reset',
        `real_server ${rs.address} ${rs.port}: with lb_kind ${kind} a real server gets the virtual server's port; ${k.port} is used in IPVS, its checkers keep ${rs.port} (as keepalived does): write ${k.port}, or use lb_kind NAT to change ports`,
      );
      keepCheckerPorts(rs);
      rs.port = k.port;
    } else if (k.kind === 'fwmark' && rs.port !== 0) {
      diags.warn(
        rs.pos,
        'port-reset',
        `real_server ${rs.address} ${rs.port}: a fwmark service has no port and lb_kind ${kind} keeps the packet's own, so the port is cleared in IPVS, its checkers keep ${rs.port} (as keepalived does)`,
      );
      keepCheckerPorts(rs);
      rs.port = 0;
    } else if (k.kind === 'group' && rs.port !== 0) {
      const ports = new Set(memberPorts);
      ports.delete(rs.port);
      if (ports.size > 0) {
        diags.warn(
          rs.pos,
          'port-reset',
          `real_server ${rs.address} ${rs.port}: with lb_kind ${kind} it gets each group member's port in IPVS (${[...ports].sort((a, b) => a - b).join(', ')}); ${rs.port} is used by its checkers only`,
        );
      }
    }
  }
}

/** Checkers that connect and name no port connect to the real server's port as written. */
function keepCheckerPorts(rs: RealServer): void {
  for (const c of rs.checkers) {
    if (c.type === 'MISC_CHECK' || c.type === 'FILE_CHECK' || c.type === 'PING_CHECK') continue;
    if (c.connectPort === null) c.connectPort = rs.port;
  }
}

function listHint(names: string[]): string {
  if (names.length === 0) return ' (none is defined)';
  return ` (defined: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''})`;
}

/**
 * Interface references keepalived 2.2.7's VRRP process does not look up while it reads the
 * config: the IPVS sync daemon's and bind_if (names kept as text), and default_interface
 * (looked up only for a static address written without `dev`, which ours does not build).
 */
const CHECKED_LATER = new Set(['lvs_sync_daemon', 'lvs_sync_daemon_interface', 'bind_if', 'default_interface']);

/**
 * Interfaces the config names must exist on the host, as keepalived -t checks, unless
 * `dynamic_interfaces` says they may appear later (then a warning). At start and reload
 * (`daemon`) the rule is keepalived's VRRP process's: each interface it looks up while
 * reading (an instance's `interface`, `track_interface` of an instance or sync group, a VIP's
 * `dev`) that is missing marks the config, and once read it exits (vrrp_daemon.c: "Non-existent
 * interface specified in configuration", permanent error CONFIG, which stops keepalived);
 * an interface that exists but is down only puts its instances in FAULT. The references it
 * does not look up (CHECKED_LATER), and every reference when no VRRP instance runs, it starts
 * with.
 */

export function checkInterfaces(config: KeepalivedConfig, facts: BuildFacts, hostInterfaces: ReadonlySet<string>, diags: Diagnostics, daemon = false): void {
  const reported = new Set<string>();
  const vrrpRuns = config.vrrpInstances.length > 0;
  for (const ref of facts.interfaceRefs) {
    if (ref.name === 'lo' && /^vrrp_instance .* interface$/.test(ref.what)) {
      // keepalived 2.2.7: "cannot use a loopback interface (lo) for vrrp - ignoring", and -t fails
      diags.error(
        ref.pos,
        'loopback-vrrp',
        `${ref.what}: VRRP cannot run on the loopback interface \`lo\` (keepalived refuses it too); name the interface that faces the peers`,
      );
      continue;
    }
    if (hostInterfaces.has(ref.name)) continue;
    const key = `${ref.name}@${ref.pos.file}:${ref.pos.line}:${ref.pos.column}`;
    if (reported.has(key)) continue;
    reported.add(key);
    const msg = `${ref.what}: interface \`${ref.name}\` does not exist on this host`;
    if (config.globalDefs.dynamicInterfaces) diags.warn(ref.pos, 'no-interface', `${msg} (allowed by dynamic_interfaces)`);
    else if (daemon && (!vrrpRuns || CHECKED_LATER.has(ref.what))) diags.lenient(ref.pos, 'no-interface', `${msg}: keepalived starts without checking it`);
    else diags.error(ref.pos, 'no-interface', `${msg} (set \`dynamic_interfaces\` in global_defs if it appears later)`);
  }
}
