/**
 * global_defs lvs_sync_daemon: the kernel's IPVS connection-sync threads, started through
 * the IPVS client. keepalived's rule (man keepalived.conf): without a VRRP instance both the
 * master and the backup daemon run as long as keepalived does; with one, only the master
 * daemon runs while that instance is MASTER and only the backup daemon otherwise.
 *
 * keepalived's VRRP process drives this from its own state. Here the checker owns IPVS and
 * learns the instance's state from what VRRP does on the host: a MASTER holds the
 * instance's virtual addresses, anything else does not (see local-addresses.ts).
 */
import type { LvsSyncDaemon, VrrpInstance } from '../config/model.js';
import type { SyncDaemon, SyncState } from '../ipvs/model.js';
import type { Logger } from '../log/logger.js';

export interface SyncDaemonPort {
  startDaemon(d: SyncDaemon): Promise<void>;
  stopDaemon(state: SyncState): Promise<void>;
}

/** Which daemons should run. `instanceMaster` matters only when an instance is named. */
export function wantedSyncDaemons(lsd: LvsSyncDaemon | null, instanceMaster: boolean): SyncState[] {
  if (!lsd) return [];
  if (!lsd.instance) return ['master', 'backup'];
  return [instanceMaster ? 'master' : 'backup'];
}

/** The kernel's description of one daemon (0 leaves a parameter at the kernel's default). */
export function syncDaemonSpec(lsd: LvsSyncDaemon, state: SyncState): SyncDaemon {
  return {
    state,
    interface: lsd.interface,
    syncId: lsd.syncId ?? 0,
    maxLen: lsd.maxlen ?? 0,
    group: lsd.group,
    port: lsd.port ?? 0,
    ttl: lsd.ttl ?? 0,
  };
}

/** The instance is MASTER here when every one of its virtual addresses is on this host. */
export function instanceIsMaster(inst: Pick<VrrpInstance, 'virtualIpaddresses'> | undefined, present: (address: string) => boolean): boolean {
  return inst !== undefined && inst.virtualIpaddresses.length > 0 && inst.virtualIpaddresses.every((v) => present(v.address));
}

const sameSpec = (a: SyncDaemon, b: SyncDaemon): boolean =>
  a.interface === b.interface && a.syncId === b.syncId && a.maxLen === b.maxLen && a.group === b.group && a.port === b.port && a.ttl === b.ttl;

/** Starts and stops the daemons so the running set matches what is wanted; one change at a time. */
export class SyncDaemonControl {
  private readonly running = new Map<SyncState, SyncDaemon>();
  private chain: Promise<void> = Promise.resolve();
  private cleared = false;

  constructor(
    private readonly ipvs: SyncDaemonPort,
    private readonly log: Logger,
  ) {}

  /** Converge to `wanted` for `lsd`; resolves when the kernel has been told. */
  apply(lsd: LvsSyncDaemon | null, wanted: readonly SyncState[]): Promise<void> {
    this.chain = this.chain.then(() => this.converge(lsd, wanted));
    return this.chain;
  }

  /** Stop whatever this control started. */
  stopAll(): Promise<void> {
    return this.apply(null, []);
  }

  /** What runs now, as started by this control. */
  states(): SyncState[] {
    return [...this.running.keys()].sort();
  }

  private async converge(lsd: LvsSyncDaemon | null, wanted: readonly SyncState[]): Promise<void> {
    if (!this.cleared && lsd) {
      // a checker that died leaves its daemons behind; keepalived stops them before starting
      this.cleared = true;
      for (const s of ['master', 'backup'] as const) await this.stop(s, true);
    }
    const specs = new Map(wanted.map((s) => [s, syncDaemonSpec(lsd!, s)] as const));
    for (const [state, spec] of this.running) {
      const next = specs.get(state);
      if (!next || !sameSpec(spec, next)) await this.stop(state, false);
    }
    for (const [state, spec] of specs) {
      if (this.running.has(state)) continue;
      try {
        await this.ipvs.startDaemon(spec);
        this.running.set(state, spec);
        this.log.info({ state, interface: spec.interface, syncId: spec.syncId }, 'IPVS sync daemon started');
      } catch (e) {
        this.log.error({ state, interface: spec.interface, err: (e as Error).message }, 'cannot start the IPVS sync daemon');
      }
    }
  }

  private async stop(state: SyncState, quietIfAbsent: boolean): Promise<void> {
    const was = this.running.delete(state);
    try {
      await this.ipvs.stopDaemon(state);
      this.log.info({ state }, was ? 'IPVS sync daemon stopped' : 'stopped an IPVS sync daemon left running');
    } catch (e) {
      // ESRCH: none was running, which is what we wanted
      if ((e as { code?: string }).code === 'ESRCH' && (quietIfAbsent || !was)) return;
      this.log.warn({ state, err: (e as Error).message }, 'cannot stop the IPVS sync daemon');
    }
  }
}
