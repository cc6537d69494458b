// systemd's readiness protocol (sd_notify(3)) for Type=notify units: datagrams such as
// `READY=1` to the socket named by $NOTIFY_SOCKET. The parent says READY=1 once every child
// it started is running, RELOADING=1 and READY=1 around a reload (with STATUS= saying how it
// went, which `systemctl status` shows), and STOPPING=1 when it starts to stop.
// Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
import unixDgram, { type UnixDgramSocket } from 'unix-dgram';

export interface Notifier {
  /** Sends `KEY=VALUE` lines as one datagram; false when nothing was sent. */
  notify(...lines: string[]): boolean;
  close(): void;
}

/** CLOCK_MONOTONIC in microseconds, which RELOADING=1 carries (systemd 253's notify-reload). */
export const monotonicUsec = (): string => String(process.hrtime.bigint() / 1000n);

/**
 * A notifier for $NOTIFY_SOCKET. Abstract sockets (`@name`) are not reachable through
 * unix-dgram; systemd itself uses a path (/run/systemd/notify), so those are reported, not sent.
 */
export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, onError: (why: string) => void = () => undefined): Notifier {
  const path = env.NOTIFY_SOCKET;
  if (!path) return { notify: () => false, close: () => undefined };
  if (path.startsWith('@')) {
    onError(`NOTIFY_SOCKET ${path} is an abstract socket, which keepalived-ts cannot reach: systemd will not hear READY=1`);
    return { notify: () => false, close: () => undefined };
  }
  let socket: UnixDgramSocket | null = null;
  return {
    notify(...lines) {
      try {
        if (!socket) {
          socket = unixDgram.createSocket('unix_dgram');
          socket.on('error', (e: Error) => onError(`sd_notify: ${e.message}`));
        }
        const datagram = Buffer.from(lines.join('\n'));
        socket.send(datagram, 0, datagram.length, path, (err) => {
          if (err) onError(`sd_notify ${lines[0]}: ${err.message}`);
        });
        return true;
      } catch (e) {
        onError(`sd_notify ${lines[0]}: ${(e as Error).message}`);
        return false;
      }
    },
    close() {
      try {
        socket?.close();
      } catch {
        /* already closed */
      }
      socket = null;
    },
  };
}

/**
 * What the parent tells systemd, decided from what happens to it: READY=1 once every child
 * has said it runs (once; a restarted child does not make the service "ready" again),
 * RELOADING=1 at a HUP, READY=1 again when every child has answered it (or the parent
 * refused the file), STOPPING=1 at stop. STATUS= says what `systemctl status` should show.
 */
export class ServiceNotifications {
  private readonly ready = new Set<string>();
  private announced = false;
  private pendingReload: Set<string> | null = null;
  private reloadProblems: string[] = [];

  constructor(
    private readonly notifier: Notifier,
    private readonly roles: readonly string[],
  ) {}

  /** Call once the children are started (READY=1 at once when there are none). */
  started(): void {
    if (this.roles.length === 0) this.announce();
  }

  childReady(role: string): void {
    this.ready.add(role);
    if (!this.announced && this.roles.every((r) => this.ready.has(r))) this.announce();
  }

  reloadStarted(): void {
    this.notifier.notify('RELOADING=1', `MONOTONIC_USEC=${monotonicUsec()}`, 'STATUS=reloading the configuration');
    this.pendingReload = new Set(this.roles);
    this.reloadProblems = [];
  }

  /** The parent refused the new file (it fails -t): nothing changed. */
  reloadRefused(why: string): void {
    this.pendingReload = null;
    this.notifier.notify('READY=1', `STATUS=reload refused (${why}); running the previous configuration`);
  }

  childReloaded(role: string, ok: boolean, message?: string): void {
    if (!this.pendingReload?.delete(role)) return;
    if (!ok) this.reloadProblems.push(`${role}: ${message ?? 'refused'}`);
    if (this.pendingReload.size > 0) return;
    this.pendingReload = null;
    const status = this.reloadProblems.length
      ? `reload not applied by ${this.reloadProblems.join('; ')}`
      : `running: ${this.roles.join(', ')}; configuration reloaded`;
    this.notifier.notify('READY=1', `STATUS=${status.split('\n')[0]}`);
  }

  stopping(): void {
    this.notifier.notify('STOPPING=1', 'STATUS=stopping');
  }

  private announce(): void {
    this.announced = true;
    this.notifier.notify('READY=1', `STATUS=running: ${this.roles.length ? this.roles.join(', ') : 'no subsystem configured'}`, `MAINPID=${process.pid}`);
  }
}
