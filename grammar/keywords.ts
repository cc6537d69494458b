// The keepalived.conf keyword schema (keepalived 2.2, `man keepalived.conf`): every block,
// its keywords, argument shapes, defaults, deprecated spellings and whether keepalived-ts acts
// on it. The model builder validates every statement against this table; adding a keyword
// means one entry here plus its model field (and, unless it is a plain value, one handler
// case in src/config/build.ts). `keepalived-ts --keywords` prints it.
import { arg, opt, rest, kw, flag, boolFlag, notApplied, known, T, SCRIPT_ARGS, INT32_MAX, UINT32_MAX, type BlockSpec, type KeywordSpec } from './types.js';

export * from './types.js';

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];
const TIMER = T.dec(0, UINT32_MAX / 1e6);
/**
 * delay_loop, vrrp_garp_interval, vrrp_gna_interval: keepalived refuses 0 ("number '0' outside
 * range [0.000001, ...]") and keeps its default.
 */
const POSITIVE_TIMER = T.dec(0.000001, UINT32_MAX / 1e6);
/** A server's port where 0 means none written (keepalived: "port 0" is no port). */
const ANY_PORT = T.int(0, 65535);
/**
 * keepalived 2.2.7 as Debian builds it has nftables and no iptables nor ipset support: it takes
 * `vrrp_iptables` as `nftables` and does not know `vrrp_ipsets`.
 */
const NO_IPSETS =
  'keepalived 2.2.7 as Debian builds it (nftables, no ipset support) does not know it either: no ipsets are made; the VRRP firewall is nftables (`nftables`)';

// ---------------------------------------------------------------- global_defs
const globalKnownOnly = known(
  'net_namespace',
  'net_namespace_ipvs',
  'namespace_with_ipsets',
  'instance',
  'use_pid_dir',
  'linkbeat_use_polling',
  'child_wait_time',
  'tmp_config_directory',
  'config_save_dir',
  'process_names',
  'process_name',
  'vrrp_process_name',
  'checker_process_name',
  'bfd_process_name',
  'startup_script',
  'startup_script_timeout',
  'shutdown_script',
  'shutdown_script_timeout',
  'checker_log_all_failures',
  'no_email_faults',
  'vrrp_down_timer_adverts',
  'vrrp_min_garp',
  'vrrp_garp_extra_if',
  'nftables_ipvs',
  'nftables_ipvs_priority',
  'nftables_ipvs_start_fwmark',
  'bfd_priority',
  'bfd_no_swap',
  'bfd_cpu_affinity',
  'bfd_rt_priority',
  'bfd_rlimit_rttime',
  'bfd_rlimit_rtime',
  'snmp_socket',
  'enable_snmp_vrrp',
  'enable_snmp_keepalived',
  'enable_snmp_checker',
  'enable_snmp_rfc',
  'enable_snmp_rfcv2',
  'enable_snmp_rfcv3',
  'enable_traps',
  'enable_dbus',
  'dbus_service_name',
  'enable_dbus_create_instance',
  'fifo_write_vrrp_states_on_reload',
  'vrrp_netlink_cmd_rcv_bufs',
  'vrrp_netlink_cmd_rcv_bufs_force',
  'vrrp_netlink_monitor_rcv_bufs',
  'vrrp_netlink_monitor_rcv_bufs_force',
  'lvs_netlink_cmd_rcv_bufs',
  'lvs_netlink_cmd_rcv_bufs_force',
  'lvs_netlink_monitor_rcv_bufs',
  'lvs_netlink_monitor_rcv_bufs_force',
  'process_monitor_rcv_bufs',
  'process_monitor_rcv_bufs_force',
  'vrrp_rx_bufs_policy',
  'vrrp_rx_bufs_multiplier',
  'rs_init_notifies',
  'umask',
  'vrrp_startup_delay',
  'log_unknown_vrids',
  'random_seed',
  'reload_check_config',
  'include_check',
  'reload_time_file',
  'reload_repeat',
  'reload_file',
  'data_use_instance',
  'vrrp_garp_lower_prio_no_advert',
  'bfd_process_name',
  'vrrp_iptables_chain',
  'vrrp_use_ipsets',
  'dynamic_interfaces_allow_if_changes',
  'vrrp_mcast_group6_ll',
);

/**
 * How the VRRP and checker children run (keepalived applies them in each child once its
 * config is loaded): real-time scheduling, nice, memory locking, CPU affinity, the
 * real-time CPU limit. A real-time priority outside 1-99 is brought into range with a
 * warning, as keepalived does.
 */
const processKeywords = (role: 'vrrp' | 'checker'): KeywordSpec[] => [
  kw(`${role}_rt_priority`, [arg('priority', T.int(-INT32_MAX - 1, INT32_MAX))], { doc: `SCHED_RR at 1-99 for the ${role} child` }),
  kw(`${role}_priority`, [arg('nice', T.int(-20, 19))], { default: '0', doc: `nice of the ${role} child (without ${role}_rt_priority)` }),
  flag(`${role}_no_swap`, { doc: `lock the ${role} child's memory (mlockall)` }),
  kw(`${role}_cpu_affinity`, [arg('cpu', T.int(0, 1023)), rest('cpu', T.int(0, 1023))], { doc: `CPUs the ${role} child may run on` }),
  kw(`${role}_rlimit_rttime`, [arg('microseconds', T.int(1, UINT32_MAX))], {
    default: '200000 (keepalived: 10000)',
    deprecatedAliases: [`${role}_rlimit_rtime`],
    aliases: [`${role}_rlimit_rtime`],
    doc: 'CPU time at real-time priority without sleeping: SIGKILL beyond it (a warning at half)',
  }),
];

const globalDefs: BlockSpec = {
  name: 'global_defs',
  keywords: [
    kw('notification_email', [], { block: 'list', doc: 'addresses notified by smtp_alert, one per line' }),
    kw('notification_email_from', [arg('address', T.str)], { default: 'keepalived@<hostname>' }),
    kw('smtp_server', [arg('host', T.str), opt('port', T.port)], { doc: 'SMTP relay (port default 25)' }),
    kw('smtp_helo_name', [arg('name', T.str)], { default: '<hostname>' }),
    kw('smtp_connect_timeout', [arg('seconds', T.int(1, 3600))], { default: '30' }),
    kw('smtp_alert', [opt('on', T.bool)], { default: 'off' }),
    kw('smtp_alert_checker', [opt('on', T.bool)], { default: 'smtp_alert; else real servers on, virtual servers off' }),
    boolFlag('no_checker_emails', { doc: 'real server alerts only when the server changes state, not per checker' }),
    kw('router_id', [arg('id', T.str)], { default: '<hostname>', aliases: ['lvs_id'] }),
    kw('vrrp_mcast_group4', [arg('group', T.ipv4)], { default: '224.0.0.18' }),
    kw('vmac_prefix', [arg('prefix', T.str)], { default: 'vrrp', doc: 'name prefix of use_vmac / use_ipvlan interfaces without a name' }),
    kw('vmac_addr_prefix', [arg('prefix', T.str)], { default: 'vmac_prefix', doc: 'name prefix of use_vmac_addr interfaces' }),
    flag('disable_local_igmp', {
      doc: 'IPv4 VMACs get no IGMP steering rule, and net.ipv4.igmp_link_local_mcast_reports is 0 while the daemon runs',
    }),
    kw('vrrp_mcast_group6', [arg('group', T.ipv6)], { default: 'ff02::12' }),
    kw('default_interface', [arg('interface', T.str)]),
    kw('lvs_sync_daemon', 'any', { doc: 'INTERFACE [[inst] VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]' }),
    kw('lvs_timeouts', 'any', { doc: '[tcp SECS] [tcpfin SECS] [udp SECS]' }),
    flag('lvs_flush'),
    kw('lvs_flush_on_stop', [opt('what', T.oneOf('VS'))], {
      aliases: ['lvs_flush_onstop'],
      doc: 'flush the table at stop; VS: delete each owned service (the kernel drops its real servers)',
    }),
    kw('vrrp_garp_master_delay', [arg('seconds', T.int(0, 1000))], { default: '5' }),
    kw('vrrp_garp_master_repeat', [arg('count', T.int(1, 65535))], { default: '5' }),
    kw('vrrp_garp_master_refresh', [arg('seconds', T.int(0, 86400))], { default: '0 (off)' }),
    kw('vrrp_garp_master_refresh_repeat', [arg('count', T.int(1, 65535))], { default: '1' }),
    kw('vrrp_garp_lower_prio_delay', [arg('seconds', T.int(0, 1000))], { default: 'vrrp_garp_master_delay' }),
    kw('vrrp_garp_lower_prio_repeat', [arg('count', T.int(0, 65535))], { default: 'vrrp_garp_master_repeat' }),
    // keepalived refuses 0 (its range starts at one microsecond) and keeps the default, 0
    kw('vrrp_garp_interval', [arg('seconds', POSITIVE_TIMER)], { default: '0' }),
    kw('vrrp_gna_interval', [arg('seconds', POSITIVE_TIMER)], { default: '0' }),
    boolFlag('vrrp_lower_prio_no_advert'),
    boolFlag('vrrp_higher_prio_send_advert'),
    kw('vrrp_version', [arg('version', T.int(2, 3))], { default: '2' }),
    flag('vrrp_strict', { doc: 'RFC-strict VRRP for every instance (strict_mode): refuses or resets what the RFCs forbid; no accept mode' }),
    flag('vrrp_check_unicast_src'),
    flag('vrrp_skip_check_adv_addr'),
    kw('vrrp_iptables', [rest('chain', T.str)], { doc: 'taken as `nftables` (keepalived 2.2.7 as Debian builds it has no iptables support)' }),
    kw('nftables', [opt('table', T.str)], { default: 'keepalived', doc: 'the nftables table of the VRRP firewall (VIPs of non-accept masters dropped)' }),
    kw('nftables_priority', [arg('priority', T.int(-INT32_MAX - 1, INT32_MAX))], { default: '-1' }),
    flag('nftables_counters', { doc: 'a counter on each firewall rule' }),
    flag('nftables_ifindex', { doc: 'dont_track_primary link-local VIPs matched by interface index, not name' }),
    notApplied(kw('vrrp_ipsets', 'any'), NO_IPSETS),
    kw('script_user', [arg('username', T.str), opt('groupname', T.str)], { default: 'keepalived_script or root' }),
    flag('enable_script_security'),
    kw('dynamic_interfaces', [opt('mode', T.oneOf('allow_if_changes'))], { default: 'off' }),
    kw('vrrp_notify_fifo', SCRIPT_ARGS),
    kw('lvs_notify_fifo', SCRIPT_ARGS),
    kw('notify_fifo', SCRIPT_ARGS),
    kw('vrrp_notify_fifo_script', SCRIPT_ARGS),
    kw('lvs_notify_fifo_script', SCRIPT_ARGS),
    kw('notify_fifo_script', SCRIPT_ARGS),
    kw('vrrp_notify_priority_changes', [opt('on', T.bool)], { default: 'off' }),
    kw('smtp_alert_vrrp', [opt('on', T.bool)], { default: 'smtp_alert' }),
    ...processKeywords('vrrp'),
    ...processKeywords('checker'),
    kw('max_auto_priority', [opt('priority', T.int(-1, 99))], {
      default: '0 (never); alone: 99',
      doc: 'a child that runs late raises itself to real-time priority, up to this',
    }),
    kw('min_auto_priority_delay', [arg('microseconds', T.int(1, 10_000_000))], {
      default: '1000000',
      doc: 'how late a timer must run before max_auto_priority acts',
    }),
    ...globalKnownOnly,
  ],
};

// ---------------------------------------------------------------- vrrp_script & friends
const vrrpScript: BlockSpec = {
  name: 'vrrp_script',
  keywords: [
    kw('script', [arg('script', T.str), rest('args', T.str)], { doc: 'command; quote it to keep spaces' }),
    kw('interval', [arg('seconds', T.dec(0.000001, UINT32_MAX / 1e6))], { default: '1' }),
    kw('timeout', [arg('seconds', T.dec(0.000001, UINT32_MAX / 1e6))], { default: 'interval' }),
    kw('weight', [arg('weight', T.int(-253, 253)), opt('reverse', T.oneOf('reverse'))], { default: '0' }),
    kw('rise', [arg('count', T.int(1, INT32_MAX))], { default: '1' }),
    kw('fall', [arg('count', T.int(1, INT32_MAX))], { default: '1' }),
    kw('user', [arg('username', T.str), opt('groupname', T.str)]),
    flag('init_fail'),
  ],
};

const trackFile: BlockSpec = {
  name: 'track_file',
  keywords: [
    kw('file', [arg('path', T.path)]),
    kw('weight', [arg('weight', T.int(-INT32_MAX, INT32_MAX)), opt('reverse', T.oneOf('reverse'))], { default: '1' }),
    kw('init_file', [opt('value', T.int(-INT32_MAX, INT32_MAX)), opt('overwrite', T.oneOf('overwrite'))]),
  ],
};

const notifyKeywords: KeywordSpec[] = [
  kw('notify_master', SCRIPT_ARGS),
  kw('notify_backup', SCRIPT_ARGS),
  kw('notify_fault', SCRIPT_ARGS),
  kw('notify_stop', SCRIPT_ARGS),
  kw('notify', SCRIPT_ARGS),
  kw('smtp_alert', [opt('on', T.bool)], { default: 'global smtp_alert' }),
  kw('notify_priority_changes', [opt('on', T.bool)], { default: 'vrrp_notify_priority_changes' }),
];

const trackLists: KeywordSpec[] = [
  kw('track_interface', [], { block: 'list', doc: 'IFNAME [weight N [reverse]] per line' }),
  kw('track_script', [], { block: 'list', doc: 'SCRIPT_NAME [weight N [reverse]] per line' }),
  kw('track_file', [], { block: 'list', doc: 'TRACK_FILE_NAME [weight N [reverse]] per line' }),
  kw('track_process', [], { block: 'list', doc: 'VRRP_TRACK_PROCESS_NAME [weight N [reverse]] per line' }),
  ...known('track_bfd'),
];

/** vrrp_track_process: a process present by name (and parameters), counted against a quorum. */
const trackProcess: BlockSpec = {
  name: 'vrrp_track_process',
  keywords: [
    kw('process', [arg('name', T.str), rest('parameter', T.str)], { doc: 'comm name, or argv[0] with full_command or parameters' }),
    kw('param_match', [opt('how', T.oneOf('initial', 'partial'))], { default: 'exact when parameters are given' }),
    kw('weight', [arg('weight', T.int(-254, 254)), opt('reverse', T.oneOf('reverse'))], { default: '0 (FAULT without quorum)' }),
    kw('quorum', [arg('count', T.int(1, 65535))], { default: '1' }),
    kw('quorum_max', [arg('count', T.int(0, 65535))], { default: 'unlimited' }),
    kw('delay', [arg('seconds', T.dec(0.000001, 3600))], { doc: 'fork_delay and terminate_delay' }),
    kw('terminate_delay', [arg('seconds', T.dec(0.000001, 3600))]),
    kw('fork_delay', [arg('seconds', T.dec(0.000001, 3600))]),
    flag('full_command', { doc: 'match argv[0] rather than the 15-character comm' }),
  ],
};

const staticTrackGroup: BlockSpec = {
  name: 'track_group',
  unknownHint: 'the instances are listed inside `group { }`',
  keywords: [kw('group', [], { block: 'list', doc: 'vrrp_instance names' })],
};

const syncGroup: BlockSpec = {
  name: 'vrrp_sync_group',
  unknownHint: 'sync group members are listed inside `group { }`',
  keywords: [
    kw('group', [], { block: 'list', doc: 'member vrrp_instance names' }),
    ...trackLists,
    ...notifyKeywords,
    flag('sync_group_tracking_weight', { doc: 'members keep their tracking weights (else: interface weights 0, weighted scripts dropped)' }),
    flag('global_tracking', { doc: 'deprecated: sync_group_tracking_weight' }),
  ],
};

// ---------------------------------------------------------------- vrrp_instance
const authentication: BlockSpec = {
  name: 'authentication',
  keywords: [kw('auth_type', [arg('type', T.oneOf('PASS', 'AH'))]), kw('auth_pass', [arg('password', T.str)], { doc: 'only the first 8 characters are used' })],
};

const vrrpInstance: BlockSpec = {
  name: 'vrrp_instance',
  keywords: [
    kw('state', [arg('state', T.oneOf('MASTER', 'BACKUP'))], { default: 'BACKUP' }),
    kw('interface', [arg('interface', T.str)], { default: 'default_interface' }),
    kw('virtual_router_id', [arg('vrid', T.int(1, 255))], { doc: 'required' }),
    kw('priority', [arg('priority', T.int(1, 255))], { default: '100' }),
    kw('advert_int', [arg('seconds', T.dec(0.01, 255))], { default: '1' }),
    kw('version', [arg('version', T.int(2, 3))], { default: 'vrrp_version (IPv6: 3)' }),
    flag('nopreempt'),
    kw('preempt_delay', [arg('seconds', T.dec(0, 1000))], { default: '0' }),
    // keepalived reads the address and drops a `/prefix` without a word (the builder warns)
    kw('mcast_src_ip', [arg('address', T.prefix)]),
    kw('unicast_src_ip', [arg('address', T.prefix)]),
    kw('unicast_peer', [], { block: 'list', doc: 'ADDRESS [min_ttl N] [max_ttl N] per line' }),
    kw('authentication', [], { block: 'authentication' }),
    kw('virtual_ipaddress', [], { block: 'list', doc: 'ADDR[/PREFIX] [brd X] [dev IF] [scope S] [label L] per line' }),
    kw('virtual_ipaddress_excluded', [], { block: 'list' }),
    kw('virtual_routes', [], { block: 'list', doc: 'ip route syntax per line: added on MASTER, removed on leaving it' }),
    kw('virtual_rules', [], { block: 'list', doc: 'ip rule syntax per line: added on MASTER, removed on leaving it' }),
    ...trackLists,
    ...notifyKeywords,
    kw('notify_deleted', [opt('script', T.str), opt('username', T.str), opt('groupname', T.str)], {
      default: 'a removed instance is announced FAULT',
      doc: 'announce an instance a reload removes as DELETED, running SCRIPT if given',
    }),
    kw('notify_master_rx_lower_pri', SCRIPT_ARGS, { doc: 'run when a MASTER hears a lower-priority advert' }),
    flag('dont_track_primary'),
    kw('garp_master_delay', [arg('seconds', T.int(0, 1000))], { default: 'vrrp_garp_master_delay' }),
    kw('garp_master_repeat', [arg('count', T.int(1, 65535))], { default: 'vrrp_garp_master_repeat' }),
    kw('garp_master_refresh', [arg('seconds', T.int(0, 86400))], { default: 'vrrp_garp_master_refresh' }),
    kw('garp_master_refresh_repeat', [arg('count', T.int(1, 65535))], { default: 'vrrp_garp_master_refresh_repeat' }),
    kw('garp_lower_prio_delay', [arg('seconds', T.int(0, 1000))]),
    kw('garp_lower_prio_repeat', [arg('count', T.int(0, 65535))]),
    kw('lvs_sync_daemon_interface', [arg('interface', T.str)]),
    flag('preempt', { doc: 'clears an earlier nopreempt (preempting is the default)' }),
    flag('accept', { default: 'on, off with strict_mode unless priority 255' }),
    flag('no_accept'),
    kw('strict_mode', [opt('on', T.bool)], { default: 'vrrp_strict' }),
    boolFlag('lower_prio_no_advert', { default: 'vrrp_lower_prio_no_advert (on with strict_mode)' }),
    boolFlag('higher_prio_send_advert', { default: 'vrrp_higher_prio_send_advert (off with strict_mode)' }),
    kw('use_vmac', [opt('name', T.str), opt('mac', T.str)], { doc: 'macvlan with the VRRP MAC carrying VIPs and adverts (default name vrrp.<VRID>)' }),
    flag('vmac_xmit_base', { doc: 'adverts from the base interface instead of the use_vmac one' }),
    kw('use_ipvlan', [rest('word', T.str)], { doc: '[NAME] [ADDRESS[/PREFIX]] [bridge|private|vepa]: an L2 ipvlan instead of a macvlan' }),
    flag('use_vmac_addr', { doc: 'VIPs on other interfaces or of the other family each go on a VMAC of that interface (named from vmac_addr_prefix)' }),
    ...known(
      'vrf',
      'native_ipv6',
      'mcast_dst_ip',
      'track_src_ip',
      'check_unicast_src',
      'unicast_fault_no_peer',
      'unicast_ttl',
      'old_unicast_checksum',
      'garp_extra_if',
      'down_timer_adverts',
      'promote_secondaries',
      'skip_check_adv_addr',
      'debug',
      'kernel_rx_buf_size',
      'linkbeat_use_polling',
      'interfaces',
    ),
  ],
};

// ---------------------------------------------------------------- LVS
const commonChecker: KeywordSpec[] = [
  kw('connect_ip', [arg('address', T.ip)], { default: 'real server address' }),
  kw('connect_port', [arg('port', T.port)], { default: 'real server port' }),
  kw('bindto', [arg('address', T.ip)]),
  kw('bind_port', [arg('port', T.port)]),
  kw('bind_if', [arg('interface', T.str)]),
  kw('connect_timeout', [arg('seconds', TIMER)], { default: '5' }),
  kw('retry', [arg('count', T.int(0, INT32_MAX))], { default: '1 (DNS 3, MISC 0)' }),
  kw('delay_before_retry', [arg('seconds', TIMER)], { default: '1 (HTTP/SSL 3, DNS delay_loop)' }),
  kw('warmup', [arg('seconds', TIMER)], { default: 'delay_loop' }),
  kw('delay_loop', [arg('seconds', POSITIVE_TIMER)], { default: 'real server delay_loop' }),
  kw('alpha', [opt('on', T.bool)]),
  ...known('log_all_failures', 'fwmark'),
];

const url: BlockSpec = {
  name: 'url',
  keywords: [
    kw('path', [arg('path', T.str)]),
    kw('digest', [arg('md5', T.str)]),
    kw('status_code', [arg('code', T.str), rest('code', T.str)], { default: '200-299' }),
    kw('virtualhost', [arg('host', T.str)]),
    kw('regex', [arg('pcre2', T.str)], { doc: 'PCRE2 pattern the body must match, run as a JavaScript RegExp (see regex_options)' }),
    flag('regex_no_match', { doc: 'a match of regex fails the check' }),
    kw('regex_options', [rest('option', T.str)], { doc: 'PCRE2 options; those RegExp cannot express draw a warning' }),
    kw('regex_min_offset', [arg('offset', T.int(0, UINT32_MAX))], { default: '0' }),
    kw('regex_max_offset', [arg('offset', T.int(0, UINT32_MAX))], { default: 'none' }),
    notApplied(
      kw('regex_stack', [arg('start', T.int(0, UINT32_MAX)), arg('max', T.int(0, UINT32_MAX))]),
      "it sizes PCRE2's JIT stack; JavaScript's RegExp has no stack to size",
    ),
  ],
};

// keepalived 2.2 still accepts the old `nb_get_retry` in HTTP_GET / SSL_GET only.
const httpCommon = commonChecker.map((k) => (k.name === 'retry' ? { ...k, aliases: ['nb_get_retry'], deprecatedAliases: ['nb_get_retry'] } : k));

const httpCheck = (name: string): BlockSpec => ({
  name,
  keywords: [
    ...httpCommon,
    kw('url', [], { block: 'url' }),
    kw('virtualhost', [arg('host', T.str)]),
    boolFlag('enable_sni', { doc: 'SSL_GET: send the virtualhost (url, checker or virtual server) as TLS SNI' }),
    kw('http_protocol', [arg('version', T.oneOf('1.0', '1.1', '1.0C', '1.0c'))], {
      default: '1.0',
      doc: '1.0C and 1.1 add Connection: close',
    }),
    notApplied(
      kw('fast_recovery', [opt('on', T.bool)]),
      'keepalived-ts checks every url in one attempt and brings a failed checker back on its first success, as fast as keepalived with fast_recovery; without it keepalived is slower',
    ),
  ],
});

const smtpHost: BlockSpec = {
  name: 'host',
  keywords: [
    kw('connect_ip', [arg('address', T.ip)]),
    kw('connect_port', [arg('port', T.port)]),
    kw('bindto', [arg('address', T.ip)]),
    kw('bind_port', [arg('port', T.port)]),
    kw('connect_timeout', [arg('seconds', TIMER)]),
    ...known('bind_if', 'fwmark'),
  ],
};

const CHECKER_BLOCKS: BlockSpec[] = [
  { name: 'TCP_CHECK', keywords: commonChecker },
  httpCheck('HTTP_GET'),
  httpCheck('SSL_GET'),
  {
    name: 'MISC_CHECK',
    keywords: [
      ...commonChecker,
      kw('misc_path', SCRIPT_ARGS.slice(0, 1)),
      kw('misc_timeout', [arg('seconds', T.int(1, INT32_MAX))], { default: 'delay_loop' }),
      flag('misc_dynamic'),
      kw('user', [arg('username', T.str), opt('groupname', T.str)]),
    ],
  },
  {
    name: 'SMTP_CHECK',
    keywords: [...commonChecker, kw('helo_name', [arg('name', T.str)], { default: 'smtp_helo_name' }), kw('host', [], { block: 'host' })],
  },
  {
    name: 'DNS_CHECK',
    keywords: [
      ...commonChecker,
      kw('type', [arg('type', T.oneOfAnyCase('A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'))], { default: 'SOA' }),
      kw('name', [arg('name', T.str)], { default: '.' }),
    ],
  },
  {
    name: 'UDP_CHECK',
    keywords: [
      ...commonChecker,
      // HEX_STR may be split over words: `payload 0a1b 2c` (see hexString in the builder)
      kw('payload', [arg('hex', T.str), rest('hex', T.str)]),
      kw('require_reply', [rest('hex', T.str)]),
      kw('min_reply_length', [arg('bytes', T.int(0, 65535))], { default: '0' }),
      kw('max_reply_length', [arg('bytes', T.int(0, 65535))], { default: '255' }),
    ],
  },
  { name: 'PING_CHECK', keywords: commonChecker },
  {
    name: 'FILE_CHECK',
    keywords: [
      kw('track_file', [arg('name', T.str)]),
      kw('weight', [arg('weight', T.int(-INT32_MAX, INT32_MAX)), opt('reverse', T.oneOf('reverse'))]),
      ...known('dynamic'),
    ],
  },
];
export const CHECKER_NAMES = CHECKER_BLOCKS.map((b) => b.name);

const checkerKeywords: KeywordSpec[] = [...CHECKER_BLOCKS.map((b) => kw(b.name, [], { block: b.name, blockRequired: true })), ...known('BFD_CHECK')];

const realServer: BlockSpec = {
  name: 'real_server',
  keywords: [
    kw('weight', [arg('weight', T.int(0, INT32_MAX))], { default: '1' }),
    kw('uthreshold', [arg('connections', T.int(0, INT32_MAX))], { default: '0 (none)' }),
    kw('lthreshold', [arg('connections', T.int(0, INT32_MAX))], { default: '0 (none)' }),
    kw('lvs_method', 'any', { aliases: ['lb_kind'], doc: 'NAT|DR|TUN override for this server' }),
    kw('inhibit_on_failure', [opt('on', T.bool)], { default: 'virtual server setting' }),
    kw('notify_up', SCRIPT_ARGS),
    kw('notify_down', SCRIPT_ARGS),
    kw('alpha', [opt('on', T.bool)], { default: 'virtual server alpha' }),
    kw('delay_loop', [arg('seconds', POSITIVE_TIMER)], { default: 'virtual server delay_loop' }),
    kw('connect_timeout', [arg('seconds', TIMER)]),
    kw('retry', [arg('count', T.int(0, INT32_MAX))]),
    kw('delay_before_retry', [arg('seconds', TIMER)]),
    kw('warmup', [arg('seconds', TIMER)]),
    kw('smtp_alert', [opt('on', T.bool)]),
    ...checkerKeywords,
    kw('virtualhost', [arg('host', T.str)], { doc: "Host header of this server's HTTP checks (not their SNI)" }),
    ...known('log_all_failures'),
  ],
};

const virtualServer: BlockSpec = {
  name: 'virtual_server',
  keywords: [
    kw('delay_loop', [arg('seconds', POSITIVE_TIMER)], { default: '60' }),
    kw('lvs_sched', [arg('scheduler', T.oneOf(...SCHEDULERS))], { default: 'wlc', aliases: ['lb_algo'] }),
    kw('lvs_method', 'any', { default: 'NAT', aliases: ['lb_kind'], doc: 'NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]' }),
    kw('persistence_timeout', [opt('seconds', T.int(1, UINT32_MAX))], { default: 'none (360 when written without a value)' }),
    kw('persistence_granularity', [arg('netmask', T.str)]),
    kw('persistence_engine', [arg('engine', T.str)]),
    kw('protocol', [arg('protocol', T.oneOfAnyCase('TCP', 'UDP', 'SCTP'))], { default: 'UDP (as keepalived 2.2.7; none for fwmark)' }),
    kw('sorry_server', [arg('address', T.ip), opt('port', ANY_PORT)]),
    flag('sorry_server_inhibit'),
    kw('sorry_server_lvs_method', 'any', { aliases: ['sorry_server_lb_kind'] }),
    kw('virtualhost', [arg('host', T.str)]),
    kw('quorum', [arg('weight', T.int(1, INT32_MAX))], { default: '1' }),
    kw('hysteresis', [arg('weight', T.int(0, INT32_MAX))], { default: '0' }),
    kw('quorum_up', SCRIPT_ARGS),
    kw('quorum_down', SCRIPT_ARGS),
    flag('alpha'),
    flag('omega'),
    flag('inhibit_on_failure'),
    flag('ha_suspend'),
    flag('ops'),
    ...['flag-1', 'flag-2', 'flag-3', 'sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'].map((f) => kw(f, [], { doc: 'scheduler flag', ignoresValue: true })),
    kw('smtp_alert', [opt('on', T.bool)]),
    kw('connect_timeout', [arg('seconds', TIMER)], { default: '5' }),
    kw('retry', [arg('count', T.int(0, INT32_MAX))]),
    kw('delay_before_retry', [arg('seconds', TIMER)]),
    kw('warmup', [arg('seconds', TIMER)]),
    kw('ip_family', [arg('family', T.oneOf('inet', 'inet6'))]),
    kw('real_server', [arg('address', T.ip), opt('port', ANY_PORT)], {
      block: 'real_server',
      blockRequired: true,
      doc: "port 0 or none: the virtual server's port",
    }),
    ...known('snmp_name', 'hashed'),
  ],
};

// ---------------------------------------------------------------- SSL (SSL_GET's client side)
// keepalived loads these into the one TLS context of every SSL_GET and, like keepalived, never
// verifies the server's certificate: `ca` is loaded, not enforced.
const sslBlock: BlockSpec = {
  name: 'SSL',
  keywords: [
    kw('password', [arg('password', T.str)], { doc: 'decrypts the key file' }),
    kw('ca', [arg('file', T.path)], { doc: 'CA file, loaded (keepalived does not verify the server certificate)' }),
    kw('certificate', [arg('file', T.path)], { doc: 'client certificate chain (PEM)' }),
    kw('key', [arg('file', T.path)], { doc: 'client private key (PEM)' }),
  ],
};

// ---------------------------------------------------------------- bgp_announce (keepalived-ts only)
// Routes for FRR or BIRD to announce over BGP (README, BGP announcements). keepalived 2.2.7 reads
// every line of this block as an unknown top-level keyword, warns and goes on, so no keyword
// here may share a name with a keepalived top-level keyword (a test checks it).
const announcePrefix: BlockSpec = {
  name: 'bgp_announce_prefix',
  keywords: [
    kw('follow', [arg('what', T.oneOf('quorum', 'vrrp')), opt('instance', T.str)], {
      default: 'quorum',
      doc: 'quorum: while the virtual servers on this prefix have quorum (active-active); vrrp NAME: while that vrrp_instance is MASTER',
    }),
    kw('med', [arg('med', T.int(0, 16777215))], { default: '0', doc: 'route metric, exported as the MED; vrrp: plus 255 - priority' }),
  ],
};

const bgpAnnounce: BlockSpec = {
  name: 'bgp_announce',
  keywords: [
    kw('table', [arg('table', T.int(1, 4294967295))], { default: '254 (main)', doc: 'kernel routing table the routes go to' }),
    kw('route_protocol', [arg('protocol', T.int(1, 255))], { default: '249', doc: 'rtm_protocol our routes carry' }),
    kw('drain', [arg('seconds', T.dec(0, 3600))], { default: '2', doc: 'at stop: seconds between the withdrawal and the removal of VIPs and IPVS' }),
    kw('anycast_device', [arg('name', T.str)], {
      default: 'kt-anycast',
      doc: 'device the checker routes follow quorum prefixes through; it dies with the checker',
    }),
    kw('vrrp_device', [arg('name', T.str)], {
      default: 'kt-vrrp',
      doc: 'device the VRRP child routes follow vrrp prefixes through; it dies with the VRRP child',
    }),
    kw('prefix', [arg('prefix', T.prefix)], { block: 'bgp_announce_prefix', blockRequired: true }),
  ],
};

const BGP_ANNOUNCE_BLOCKS = [bgpAnnounce, announcePrefix];
const bgpAnnounceKeyword = kw('bgp_announce', [], {
  block: 'bgp_announce',
  blockRequired: true,
  doc: 'keepalived-ts only: routes for FRR or BIRD to announce',
});

// ---------------------------------------------------------------- top level
const root: BlockSpec = {
  name: 'root',
  keywords: [
    kw('global_defs', [], { block: 'global_defs', blockRequired: true }),
    kw('vrrp_script', [arg('name', T.str)], { block: 'vrrp_script', blockRequired: true }),
    kw('track_file', [arg('name', T.str)], { block: 'track_file', blockRequired: true, aliases: ['vrrp_track_file'] }),
    kw('vrrp_track_process', [arg('name', T.str)], { block: 'vrrp_track_process', blockRequired: true }),
    kw('vrrp_sync_group', [arg('name', T.str)], { block: 'vrrp_sync_group', blockRequired: true }),
    kw('vrrp_instance', [arg('name', T.str)], { block: 'vrrp_instance', blockRequired: true }),
    kw('virtual_server_group', [arg('name', T.str)], { block: 'list', blockRequired: true, doc: 'ADDR[-END] PORT | ADDR/PREFIX PORT | fwmark N per line' }),
    kw('virtual_server', 'any', { block: 'virtual_server', blockRequired: true, doc: 'IP PORT | fwmark N | group NAME' }),
    bgpAnnounceKeyword,
    kw('static_ipaddress', [], { block: 'list', doc: 'virtual_ipaddress syntax; applied at start, removed at stop' }),
    kw('static_routes', [], { block: 'list', doc: 'ip route syntax; applied at start, removed at stop' }),
    kw('static_rules', [], { block: 'list', doc: 'ip rule syntax; applied at start, removed at stop' }),
    kw('track_group', [arg('name', T.str)], {
      block: 'track_group',
      doc: 'instances that track the interface of each static address, route or rule naming it (FAULT while it is down)',
    }),
    kw('SSL', [], { block: 'SSL', doc: "SSL_GET's client certificate, key and CA files" }),
    ...known(
      'linkbeat_interfaces',
      'bfd_instance',
      'garp_group',
      'interface_up_down_delays',
      'net_namespace',
      'net_namespace_ipvs',
      'namespace_with_ipsets',
      'instance',
      'use_pid_dir',
      'linkbeat_use_polling',
      'child_wait_time',
    ),
  ],
};

export const BLOCKS: ReadonlyMap<string, BlockSpec> = new Map(
  [
    root,
    globalDefs,
    vrrpScript,
    trackFile,
    trackProcess,
    syncGroup,
    staticTrackGroup,
    authentication,
    vrrpInstance,
    virtualServer,
    realServer,
    url,
    sslBlock,
    smtpHost,
    ...CHECKER_BLOCKS,
    ...BGP_ANNOUNCE_BLOCKS,
  ].map((b) => [b.name, b]),
);

export const ROOT = 'root';

export interface FoundKeyword {
  spec: KeywordSpec;
  alias: boolean;
}

/** Per block: every accepted spelling -> its spec (built once; lookups are on the hot path). */
const INDEX = new WeakMap<BlockSpec, Map<string, FoundKeyword>>();

/** Every accepted spelling of a block's keywords -> its spec (built once per block). */
export function keywordIndex(block: BlockSpec): ReadonlyMap<string, FoundKeyword> {
  let index = INDEX.get(block);
  if (!index) {
    index = new Map();
    for (const spec of block.keywords) {
      for (const a of spec.aliases ?? []) if (!index.has(a)) index.set(a, { spec, alias: true });
    }
    for (const spec of block.keywords) index.set(spec.name, { spec, alias: false });
    INDEX.set(block, index);
  }
  return index;
}

/** Looks a keyword (or one of its other spellings) up in a block. */
export function findKeyword(block: BlockSpec, word: string): FoundKeyword | null {
  return keywordIndex(block).get(word) ?? null;
}
