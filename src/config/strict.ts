// strict_mode (vrrp_strict in global_defs): the RFC rules keepalived 2.2.7 enforces when it
// completes an instance (vrrp.c vrrp_complete_instance), and the accept-mode defaults that
// depend on them. Each is reported and reset, as keepalived does (the daemon runs, -t fails);
// an instance without a VIP is refused (validate.ts). Pure: the model is edited in place.
import type { Statement } from './ast.js';
import type { SourcePos, VrrpInstance } from './model.js';
import type { Diagnostics } from './schema-check.js';

export interface InstanceStatements {
  /** The vrrp_instance statement. */
  stmt: Statement;
  /** Keywords written in it (values taken). */
  written: ReadonlySet<string>;
  /** Where `state` was written, if it was. */
  statePos: SourcePos | undefined;
}

const OWNER = 255;

/** Where a keyword of the instance was written (its last statement), else the instance. */
function posOf(s: InstanceStatements, keyword: string): SourcePos {
  const found = (s.stmt.block ?? []).filter((x) => x.keyword.text === keyword).pop();
  return found?.keyword.pos ?? s.stmt.keyword.pos;
}

/**
 * Applies strict mode and the accept-mode defaults to one built instance, once its priority,
 * family and version are final. `acceptWritten`: the value of the last `accept` / `no_accept`.
 */
export function completeStrictMode(inst: VrrpInstance, s: InstanceStatements, acceptWritten: boolean | null, diags: Diagnostics): void {
  const strict = inst.strictMode;
  const name = inst.name;
  const owner = inst.priority === OWNER;
  const reset = (keyword: string, message: string): void =>
    diags.lenient(posOf(s, keyword), 'strict-mode', `vrrp_instance ${name}: ${message} (keepalived reports this and goes on without it)`);

  if (strict && s.statePos && (inst.state === 'MASTER') !== owner) {
    const state = owner ? 'MASTER' : 'BACKUP';
    diags.lenient(
      s.statePos,
      'strict-mode',
      `vrrp_instance ${name}: strict mode requires \`state MASTER\` exactly for the address owner (priority 255): keepalived starts it as ${state}`,
    );
    inst.state = state;
  }
  if (strict && inst.authentication) {
    reset('authentication', 'strict mode does not support authentication: the adverts carry none');
    inst.authentication = null;
  }
  // keepalived 2.2.7 means to refuse unicast peers in strict mode, but tests the flag before it
  // sets it from the peers: the instance runs unicast, and so does ours
  if (strict && inst.useVmac !== null && (s.stmt.block ?? []).some((x) => x.keyword.text === 'use_vmac' && x.args.length >= 2)) {
    reset('use_vmac', 'strict mode does not allow a MAC address for use_vmac: the VRRP virtual MAC is used');
  }
  if (strict && inst.family === 6 && inst.unicastPeers.length === 0) {
    const first = inst.virtualIpaddresses[0];
    if (first && !/^fe[89ab]/i.test(first.address)) {
      diags.lenient(
        first.pos,
        'strict-mode',
        `vrrp_instance ${name}: in strict mode the first IPv6 virtual_ipaddress must be link-local (fe80::/10); keepalived reports ${first.address} and runs`,
      );
    }
  }
  if (strict && inst.preemptDelayMs > 0 && inst.state !== 'MASTER') {
    reset('preempt_delay', '`preempt_delay` is incompatible with strict mode: it is reset to 0');
    inst.preemptDelayMs = 0;
  }
  if (strict && s.written.has('down_timer_adverts') && (s.stmt.block ?? []).some((x) => x.keyword.text === 'down_timer_adverts' && x.args[0]?.text !== '3')) {
    reset('down_timer_adverts', '`down_timer_adverts` is incompatible with strict mode: the RFC value 3 is used');
  }

  // accept mode: the address owner always accepts; others unless strict (keepalived's default)
  inst.accept = acceptWritten ?? (owner ? true : !strict);
  if (inst.accept && !owner && strict && inst.version === 2) {
    reset(s.written.has('accept') ? 'accept' : 'no_accept', 'accept mode with VRRP version 2 does not comply with RFC 3768: accept mode is off');
    inst.accept = false;
  }

  if (strict) {
    if (s.written.has('garp_lower_prio_repeat') && inst.garpLowerPrioRepeat)
      reset('garp_lower_prio_repeat', 'strict mode sends no repeated gratuitous ARPs on a lower priority advert: garp_lower_prio_repeat is reset to 0');
    if (s.written.has('garp_lower_prio_delay') && inst.garpLowerPrioDelayMs)
      reset('garp_lower_prio_delay', 'strict mode sends no repeated gratuitous ARPs on a lower priority advert: garp_lower_prio_delay is reset to 0');
    inst.garpLowerPrioRepeat = 0;
    inst.garpLowerPrioDelayMs = 0;
    if (s.written.has('lower_prio_no_advert') && !inst.lowerPrioNoAdvert) reset('lower_prio_no_advert', 'strict mode requires lower_prio_no_advert: it is set');
    if (s.written.has('higher_prio_send_advert') && inst.higherPrioSendAdvert)
      reset('higher_prio_send_advert', 'strict mode requires higher_prio_send_advert to be off: it is cleared');
    inst.lowerPrioNoAdvert = true;
    inst.higherPrioSendAdvert = false;
    if (inst.useVmac !== null && inst.vmacXmitBase) {
      reset('vmac_xmit_base', '`vmac_xmit_base` is incompatible with strict mode: adverts go from the VRRP MAC interface');
      inst.vmacXmitBase = false;
    }
  }
}

/**
 * keepalived's firewall choice once every instance is complete: an instance without accept
 * mode (or with use_vmac) needs one, and without `nftables` / `vrrp_iptables` keepalived
 * (built with nftables) installs its default table, `keepalived`, and says so.
 */
export function needsDefaultFirewall(instances: readonly VrrpInstance[]): VrrpInstance | undefined {
  return instances.find((i) => !i.accept || i.useVmac !== null);
}
