// No silent ignores (issue 12 §3): walks the keyword schema (grammar/keywords.ts).
// - Every keyword marked implemented changes the model: a config with the keyword (a value
//   other than the one in a minimal base config) builds a model that differs from the one
//   without it, and builds without an error.
// - Every keyword read but not applied (not-applied, parsed) warns at its position, both when
//   `-t` reads the file (strict) and when the daemon starts on it or reloads it (tolerant: the
//   reading the daemon's start and HUP use).
import { describe, expect, it } from 'vitest';
import { BLOCKS, type ArgSpec, type ArgType, type KeywordSpec } from '../../grammar/keywords.js';
import { formatDiagnostic } from './ast.js';
import { buildAndValidate } from './build-pipeline.js';
import { splitStatements } from './build-testkit.js';

/** A block's place in a minimal valid config: the text around it and the lines it needs. */
interface Context {
  /** The config with `@@` where the block's statements go. */
  around: string;
  /** Lines the block needs to be valid; a keyword among them is tested by changing its value. */
  base: string[];
}

const INSTANCE = (body: string) => `vrrp_instance VI_1 {\n${body}\n}`;
const VS = (rs: string) => `virtual_server 10.0.0.10 80 {\nprotocol TCP\n${rs}\n}`;
const RS = (body: string) => VS(`real_server 10.0.1.1 80 {\n${body}\n}`);
const CHECK = (type: string, body: string) => RS(`${type} {\n${body}\n}`);

const INSTANCE_BASE = ['interface eth0', 'virtual_router_id 51', 'virtual_ipaddress {\n10.0.0.10\n}'];
const CONTEXTS: Record<string, Context> = {
  root: { around: '@@', base: [] },
  global_defs: { around: 'global_defs {\n@@\n}', base: [] },
  vrrp_script: { around: `vrrp_script chk {\n@@\n}\n${INSTANCE(`${INSTANCE_BASE.join('\n')}\ntrack_script {\nchk\n}`)}`, base: ['script "/bin/true"'] },
  track_file: { around: `track_file tf {\n@@\n}\n${INSTANCE(`${INSTANCE_BASE.join('\n')}\ntrack_file {\ntf\n}`)}`, base: ['file "/tmp/tf"'] },
  vrrp_track_process: { around: `vrrp_track_process tp {\n@@\n}\n${INSTANCE(`${INSTANCE_BASE.join('\n')}\ntrack_process {\ntp\n}`)}`, base: ['process sshd'] },
  vrrp_sync_group: {
    around: `vrrp_sync_group G {\n@@\n}\n${INSTANCE(INSTANCE_BASE.join('\n'))}\n${INSTANCE(INSTANCE_BASE.join('\n').replace('51', '52')).replace('VI_1', 'VI_2')}`,
    base: ['group {\nVI_1\nVI_2\n}'],
  },
  vrrp_instance: { around: INSTANCE('@@'), base: INSTANCE_BASE },
  track_group: { around: 'track_group G {\n@@\n}', base: [] },
  authentication: { around: INSTANCE(`${INSTANCE_BASE.join('\n')}\nauthentication {\n@@\n}`), base: ['auth_type PASS', 'auth_pass secret'] },
  virtual_server: { around: 'virtual_server 10.0.0.10 80 {\n@@\nreal_server 10.0.1.1 80 {\nTCP_CHECK {\n}\n}\n}', base: ['protocol TCP'] },
  // a checker to inherit the real server's connect_timeout, retry, ... (a ping: it needs no port)
  real_server: { around: RS('@@'), base: ['PING_CHECK {\n}'] },
  url: { around: CHECK('HTTP_GET', 'url {\n@@\n}'), base: ['path /'] },
  SSL: { around: 'SSL {\n@@\n}', base: [] },
  host: { around: CHECK('SMTP_CHECK', 'host {\n@@\n}'), base: ['connect_ip 10.0.1.2'] },
  HTTP_GET: { around: CHECK('HTTP_GET', '@@'), base: ['url {\npath /\n}'] },
  SSL_GET: { around: CHECK('SSL_GET', '@@'), base: ['url {\npath /\n}'] },
  MISC_CHECK: { around: CHECK('MISC_CHECK', '@@'), base: ['misc_path "/bin/true"'] },
  FILE_CHECK: { around: CHECK('FILE_CHECK', '@@'), base: ['track_file tf'] },
  // a prefix the virtual server's address lies in, as a followed prefix needs
  bgp_announce: { around: `${VS('real_server 10.0.1.1 80 {\n}')}\nbgp_announce {\n@@\n}`, base: ['prefix 10.0.0.10/32 {\n}'] },
  bgp_announce_prefix: {
    around: `${VS('real_server 10.0.1.1 80 {\n}')}\n${INSTANCE(INSTANCE_BASE.join('\n'))}\nbgp_announce {\nprefix 10.0.0.10/32 {\n@@\n}\n}`,
    base: [],
  },
};
const checkerContext = (name: string): Context => CONTEXTS[name] ?? { around: CHECK(name, '@@'), base: [] };
// FILE_CHECK names a track_file
CONTEXTS.FILE_CHECK!.around = `track_file tf {\nfile "/tmp/tf"\n}\n${CONTEXTS.FILE_CHECK!.around}`;

/**
 * Statements for keywords whose words a handler reads (`'any'`) or whose value must fit the
 * rest of the config; `block/keyword` or `keyword`.
 */
const SAMPLES: Record<string, string[]> = {
  'root/global_defs': ['global_defs {\nrouter_id r1\n}'],
  'root/vrrp_script': ['vrrp_script other {\nscript "/bin/true"\n}'],
  'root/track_file': ['track_file other {\nfile "/tmp/other"\n}'],
  'root/vrrp_track_process': ['vrrp_track_process other {\nprocess sshd\n}'],
  'root/vrrp_sync_group': [`vrrp_sync_group G {\ngroup {\nVI_1\n}\n}\n${INSTANCE(INSTANCE_BASE.join('\n'))}`],
  'root/vrrp_instance': [INSTANCE(INSTANCE_BASE.join('\n'))],
  'root/virtual_server_group': ['virtual_server_group G {\n10.0.0.20 80\n}'],
  'root/virtual_server': [VS('real_server 10.0.1.1 80 {\n}')],
  lvs_sync_daemon: ['lvs_sync_daemon eth0'],
  lvs_timeouts: ['lvs_timeouts tcp 100'],
  lvs_method: ['lvs_method DR'],
  sorry_server_lvs_method: ['sorry_server 10.0.1.9 80\nsorry_server_lvs_method DR'],
  persistence_granularity: ['persistence_granularity 255.255.255.0'],
  'vrrp_sync_group/group': ['group {\nVI_1\n}'],
  track_interface: ['track_interface {\neth1 weight 10\n}'],
  'vrrp_instance/track_script': ['track_script {\nchk weight 10\n}'],
  'vrrp_sync_group/track_script': ['track_script {\nchk\n}'],
  'vrrp_instance/track_file': ['track_file {\ntf weight 5\n}'],
  'vrrp_sync_group/track_file': ['track_file {\ntf\n}'],
  'vrrp_instance/track_process': ['track_process {\ntp weight 10\n}'],
  'vrrp_sync_group/track_process': ['track_process {\ntp\n}'],
  unicast_peer: ['unicast_peer {\n10.0.0.2\n}'],
  virtual_ipaddress: ['virtual_ipaddress {\n10.0.0.11/24\n}'],
  virtual_ipaddress_excluded: ['virtual_ipaddress_excluded {\n10.0.0.12\n}'],
  virtual_routes: ['virtual_routes {\n10.5.0.0/24 via 10.0.0.254 dev eth0\n}'],
  virtual_rules: ['virtual_rules {\nfrom 10.0.0.0/24 table 100 priority 100\n}'],
  'root/static_ipaddress': ['static_ipaddress {\n10.0.0.30/24 dev eth0\n}'],
  'root/static_routes': ['static_routes {\n10.6.0.0/24 via 10.0.0.254 dev eth0\n}'],
  'root/static_rules': ['static_rules {\nfrom 10.0.1.0/24 table 100 priority 101\n}'],
  'root/track_group': ['track_group G {\ngroup {\nVI_1\n}\n}'],
  'track_group/group': ['group {\nVI_1\n}'],
  notification_email: ['notification_email {\na@example.org\n}'],
  authentication: ['authentication {\nauth_type PASS\nauth_pass secret\n}'],
  'virtual_server/real_server': ['real_server 10.0.1.2 80 {\n}'],
  url: ['url {\npath /health\n}'],
  host: ['host {\nconnect_ip 10.0.1.3\n}'],
  status_code: ['status_code 200-204'],
  digest: ['digest 00112233445566778899aabbccddeeff'],
  'root/SSL': ['SSL {\ncertificate /tmp/kt-walk.pem\n}'],
  regex_options: ['regex_options caseless'],
  state: ['state MASTER'],
  default_interface: ['default_interface eth1'],
  sorry_server: ['sorry_server 10.0.1.9 80'],
  payload: ['payload 0a1b2c'],
  'real_server/PING_CHECK': ['PING_CHECK {\nretry 5\n}'],
  'virtual_server/ip_family': [],
  'root/bgp_announce': [`${VS('real_server 10.0.1.1 80 {\n}')}\nbgp_announce {\nprefix 10.0.0.10/32 {\n}\n}`],
  'bgp_announce/prefix': ['prefix 10.0.0.10/32 {\nmed 5\n}'],
  'bgp_announce_prefix/follow': ['follow vrrp VI_1'],
  use_ipvlan: ['use_ipvlan ipv51 10.0.0.5/24 private'],
};

/** Keywords whose effect needs other lines in both configs: [also in both, the statement]. */
const PAIRED: Record<string, [string, string]> = {
  // preempt only undoes an earlier nopreempt
  'vrrp_instance/preempt': ['nopreempt', 'preempt'],
  // vmac_xmit_base only means something with a VMAC
  'vrrp_instance/vmac_xmit_base': ['use_vmac', 'vmac_xmit_base'],
  // a fifo's script only with its fifo
  'global_defs/vrrp_notify_fifo_script': ['vrrp_notify_fifo /tmp/kt-walk-v.fifo', 'vrrp_notify_fifo_script'],
  'global_defs/lvs_notify_fifo_script': ['lvs_notify_fifo /tmp/kt-walk-l.fifo', 'lvs_notify_fifo_script'],
  'global_defs/notify_fifo_script': ['notify_fifo /tmp/kt-walk.fifo', 'notify_fifo_script'],
  // a regex's modifiers only with a regex (keepalived drops them otherwise)
  'url/regex_no_match': ['regex ok', 'regex_no_match'],
  'url/regex_options': ['regex ok', 'regex_options'],
  'url/regex_min_offset': ['regex ok', 'regex_min_offset'],
  'url/regex_max_offset': ['regex ok', 'regex_max_offset'],
  // the firewall's settings only with a firewall
  'global_defs/nftables_priority': ['nftables', 'nftables_priority'],
  'global_defs/nftables_counters': ['nftables', 'nftables_counters'],
  'global_defs/nftables_ifindex': ['nftables', 'nftables_ifindex'],
  // accept is the default without strict mode
  'vrrp_instance/accept': ['no_accept', 'accept'],
};

/** Keywords whose effect shows on another kind of object: the whole configs. */
const WHOLE: Record<string, { without: string; with: string }> = {
  // the family of a fwmark service
  'virtual_server/ip_family': {
    without: 'virtual_server fwmark 7 {\nreal_server 10.0.1.1 80 {\n}\n}',
    with: 'virtual_server fwmark 7 {\nip_family inet6\nreal_server fd00::1 80 {\n}\n}',
  },
};
// the instance-level track lists name objects the context defines
const WITH_TRACKED = `vrrp_script chk {\nscript "/bin/true"\n}\ntrack_file tf {\nfile "/tmp/tf"\n}\nvrrp_track_process tp {\nprocess sshd\n}\n`;

/** Words to try for one argument, most telling first. */
function wordsFor(t: ArgType): string[] {
  switch (t.kind) {
    case 'int':
      return [...new Set([t.min + 1, t.max, t.min, Math.min(t.max, 7)].filter((n) => n >= t.min && n <= t.max).map(String))];
    case 'decimal':
      return [...new Set([t.min + 1, t.max, 0.5, t.min].filter((n) => n >= t.min && n <= t.max).map(String))];
    case 'ipv4':
      return ['10.9.8.7'];
    case 'ipv6':
      return ['fd00::7'];
    case 'ip':
      return ['10.9.8.7', 'fd00::7'];
    case 'prefix':
      return ['10.9.8.7', '10.9.8.0/24'];
    case 'port':
      return ['8080', '1'];
    case 'enum':
      return [...t.values];
    case 'bool':
      return ['off', 'on'];
    case 'path':
      return ['/tmp/kt-walk'];
    case 'string':
      return ['walk1', '/bin/true', 'eth1'];
  }
}

/** Candidate statements for a keyword from its argument shape. */
function candidates(block: string, spec: KeywordSpec): string[] {
  const sample = SAMPLES[`${block}/${spec.name}`] ?? SAMPLES[spec.name];
  if (sample) return sample;
  // a checker in a real server: the block with what it needs
  const checker = spec.block ? BLOCKS.get(spec.block) : undefined;
  if (checker && checker.name !== block && spec.block !== 'list') {
    const ctx = checkerContext(spec.block!);
    return [`${spec.name} {\n${ctx.base.join('\n')}\n}`];
  }
  if (spec.args === 'any') return [spec.name];
  const args: readonly ArgSpec[] = spec.args;
  const required = args.filter((a) => !a.optional);
  const out: string[] = [];
  // each required argument's candidates, the others at their first candidate
  const firstWords = required.map((a) => wordsFor(a.type)[0]!);
  if (required.length === 0) out.push(spec.name);
  required.forEach((a, i) => {
    for (const w of wordsFor(a.type)) out.push([spec.name, ...firstWords.map((f, j) => (j === i ? w : f))].join(' '));
  });
  // and the first optional one written
  const firstOpt = args.find((a) => a.optional);
  if (firstOpt) for (const w of wordsFor(firstOpt.type)) out.push([spec.name, ...firstWords, w].join(' '));
  return [...new Set(out)];
}

function build(text: string, tolerant = false) {
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'host1', null, tolerant);
  return { config: r.config, diagnostics: r.diagnostics };
}

/** The model without positions (they differ with every added line). */
function shape(c: unknown): string {
  return JSON.stringify(c, (k, v: unknown) => (k === 'pos' ? undefined : v));
}

function configs(block: string, statement: string, keyword: string): { without: string; with: string } {
  const whole = WHOLE[`${block}/${keyword}`];
  if (whole) return whole;
  const paired = PAIRED[`${block}/${keyword}`];
  if (paired) return { without: placed(block, paired[0], paired[0]).with, with: placed(block, `${paired[0]}\n${statement}`, keyword).with };
  return placed(block, statement, keyword);
}

function placed(block: string, statement: string, keyword: string): { without: string; with: string } {
  const ctx = CONTEXTS[block] ?? checkerContext(block);
  const lines = ctx.base.filter((l) => l.split(/\s/)[0] !== keyword);
  const replaced = ctx.base.length !== lines.length;
  const fill = (body: string[]) => ctx.around.replace('@@', body.join('\n'));
  const prefix = block === 'vrrp_instance' || block === 'vrrp_sync_group' ? WITH_TRACKED : '';
  return {
    // a keyword of the base config is tested against the base's own value
    without: prefix + fill(ctx.base),
    with: prefix + fill(replaced ? [...lines, statement] : [...ctx.base, statement]),
  };
}

const blocks = [...BLOCKS.values()];

describe('every keyword marked implemented changes the model', () => {
  for (const block of blocks) {
    const implemented = block.keywords.filter((k) => k.status === 'implemented');
    if (implemented.length === 0) continue;
    it(`${block.name}: ${implemented.map((k) => k.name).join(', ')}`, () => {
      const noEffect: string[] = [];
      for (const spec of implemented) {
        const tried: string[] = [];
        const tries = WHOLE[`${block.name}/${spec.name}`] ? [spec.name] : candidates(block.name, spec);
        const works = tries.some((statement) => {
          const { without, with: withIt } = configs(block.name, statement, spec.name);
          const a = build(without);
          const b = build(withIt);
          // an old spelling keepalived itself reports still counts as working
          const errors = b.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'deprecated').map(formatDiagnostic);
          tried.push(
            `${statement.replace(/\n/g, ' ')} -> ${errors.length ? errors.join('; ') : b.config && shape(a.config) === shape(b.config) ? 'same model' : 'differs'}`,
          );
          return a.config !== null && errors.length === 0 && shape(a.config) !== shape(build(withIt, true).config);
        });
        if (!works) noEffect.push(`${spec.name}:\n    ${tried.join('\n    ')}`);
      }
      expect(noEffect, 'implemented keywords whose statement changes nothing (or is refused)').toEqual([]);
    });
  }
});

describe('every keyword read but not applied warns at its position, at -t, start and reload', () => {
  for (const block of blocks) {
    const idle = block.keywords.filter((k) => k.status !== 'implemented');
    if (idle.length === 0) continue;
    it(`${block.name}: ${idle.map((k) => k.name).join(', ')}`, () => {
      const silent: string[] = [];
      for (const spec of idle) {
        const statement = candidates(block.name, spec)[0] ?? spec.name;
        const text = configs(block.name, statement, spec.name).with;
        const line = text.split('\n').findIndex((l) => l === statement.split('\n')[0]) + 1;
        for (const tolerant of [false, true]) {
          const warned = build(text, tolerant).diagnostics.some(
            (d) => d.severity === 'warning' && d.pos.line === line && d.pos.column === 1 && (d.code === 'not-applied' || d.code === 'not-implemented'),
          );
          if (!warned) silent.push(`${spec.name} (${tolerant ? 'start/reload' : '-t'})`);
        }
      }
      expect(silent).toEqual([]);
    });
  }
});
