// The `bgp_announce` block (keepalived-ts only) into the model. Kept apart from build.ts:
// the block is ours, keepalived's blocks are built there.
import type { KeywordSpec } from '../../grammar/keywords.js';
import type { Statement } from './ast.js';
import { familyOf, ms } from './build-values.js';
import type { AnnounceFollow, AnnouncedPrefix, BgpAnnounce } from './model.js';
import type { ArgValue, Diagnostics } from './schema-check.js';

type Walk = (block: Statement[] | null, blockName: string, handle: (spec: KeywordSpec, v: ArgValue[], stmt: Statement) => void) => void;

export const ANNOUNCE_DEFAULTS = {
  table: 254,
  routeProtocol: 249,
  drainMs: 2000,
  anycastDevice: 'kt-anycast',
  vrrpDevice: 'kt-vrrp',
} as const;

/** Linux interface names: at most 15 bytes, no `/`, blanks or `:` (IFNAMSIZ, dev_valid_name). */
const IFNAME = /^[^/\s:]{1,15}$/;

export function buildBgpAnnounce(stmt: Statement, walk: Walk, diags: Diagnostics, previous: BgpAnnounce | null): BgpAnnounce | null {
  if (previous) {
    diags.error(stmt.keyword.pos, 'duplicate', `\`bgp_announce\` is already written at ${previous.pos.file}:${previous.pos.line}; write one block`);
    return null;
  }
  const a: BgpAnnounce = { ...ANNOUNCE_DEFAULTS, prefixes: [], pos: stmt.keyword.pos };
  let ok = true;
  const device = (v: ArgValue, s: Statement): string | null => {
    const name = String(v);
    if (IFNAME.test(name)) return name;
    diags.error(
      s.args[0]!.pos,
      'bad-argument',
      `\`${s.keyword.text}\` expects an interface name (1-15 characters, no \`/\`, \`:\` or blanks), got \`${name}\``,
    );
    ok = false;
    return null;
  };
  walk(stmt.block, 'bgp_announce', (spec, v, s) => {
    switch (spec.name) {
      case 'table':
        a.table = Number(v[0]);
        return;
      case 'route_protocol':
        a.routeProtocol = Number(v[0]);
        return;
      case 'drain':
        a.drainMs = ms(v[0]);
        return;
      case 'anycast_device':
        a.anycastDevice = device(v[0], s) ?? a.anycastDevice;
        return;
      case 'vrrp_device':
        a.vrrpDevice = device(v[0], s) ?? a.vrrpDevice;
        return;
      case 'prefix': {
        const p = announcedPrefix(String(v[0]), s, walk, diags);
        if (p) a.prefixes.push(p);
        else ok = false;
        return;
      }
    }
  });
  if (a.anycastDevice === a.vrrpDevice) {
    diags.error(
      stmt.keyword.pos,
      'duplicate',
      `\`anycast_device\` and \`vrrp_device\` are both \`${a.anycastDevice}\`: each announcing process needs a device of its own`,
    );
    ok = false;
  }
  return ok ? a : null;
}

function announcedPrefix(text: string, stmt: Statement, walk: Walk, diags: Diagnostics): AnnouncedPrefix | null {
  const [address, len] = text.split('/') as [string, string | undefined];
  const family = familyOf(address)!; // the schema accepted it as an address[/prefix]
  const p: AnnouncedPrefix = {
    address,
    prefix: len === undefined ? (family === 4 ? 32 : 128) : Number(len),
    family,
    follow: { kind: 'quorum' },
    med: 0,
    pos: stmt.args[0]!.pos,
  };
  let ok = true;
  walk(stmt.block, 'bgp_announce_prefix', (spec, v, s) => {
    switch (spec.name) {
      case 'follow': {
        const f = follow(v, s, diags);
        if (f) p.follow = f;
        else ok = false;
        return;
      }
      case 'med':
        p.med = Number(v[0]);
        return;
    }
  });
  return ok ? p : null;
}

function follow(v: ArgValue[], s: Statement, diags: Diagnostics): AnnounceFollow | null {
  if (v[0] === 'quorum') {
    if (v[1] === undefined) return { kind: 'quorum' };
    diags.error(s.args[1]!.pos, 'extra-argument', '`follow quorum` takes no instance name');
    return null;
  }
  if (v[1] === undefined) {
    diags.error(s.args[0]!.pos, 'missing-argument', '`follow vrrp` needs the vrrp_instance name: `follow vrrp VI_1`');
    return null;
  }
  return { kind: 'vrrp', instance: String(v[1]) };
}
