import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import unixDgram from 'unix-dgram';
import { describe, expect, it } from 'vitest';
import { ServiceNotifications, systemdNotifier, type Notifier } from './sd-notify.js';

function recorder(): Notifier & { sent: string[][] } {
  const sent: string[][] = [];
  return { sent, notify: (...l) => sent.push(l) > 0, close: () => undefined };
}
const firstWords = (sent: string[][]) => sent.map((l) => l[0]);

describe('what the parent tells systemd', () => {
  it('READY=1 once both children run, and only once', () => {
    const n = recorder();
    const s = new ServiceNotifications(n, ['vrrp', 'checker']);
    s.started();
    s.childReady('vrrp');
    expect(n.sent).toEqual([]);
    s.childReady('checker');
    s.childReady('vrrp'); // a restarted child
    expect(firstWords(n.sent)).toEqual(['READY=1']);
    expect(n.sent[0]).toContain('STATUS=running: vrrp, checker');
  });

  it('RELOADING=1 then READY=1 when every child answered; a refused file says so', () => {
    const n = recorder();
    const s = new ServiceNotifications(n, ['vrrp', 'checker']);
    s.reloadStarted();
    expect(n.sent[0]![1]).toMatch(/^MONOTONIC_USEC=\d+$/);
    s.childReloaded('vrrp', true);
    expect(firstWords(n.sent)).toEqual(['RELOADING=1']);
    s.childReloaded('checker', false, 'no IPVS');
    expect(n.sent[1]).toEqual(['READY=1', 'STATUS=reload not applied by checker: no IPVS']);
    s.reloadStarted();
    s.reloadRefused('2 errors in /etc/keepalived/keepalived.conf');
    expect(n.sent[3]).toEqual(['READY=1', 'STATUS=reload refused (2 errors in /etc/keepalived/keepalived.conf); running the previous configuration']);
    s.stopping();
    expect(n.sent[4]![0]).toBe('STOPPING=1');
  });

  it('sends one datagram per call to $NOTIFY_SOCKET, nothing without it', async () => {
    expect(systemdNotifier({}).notify('READY=1')).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'kts-notify-'));
    const got: string[] = [];
    const listener = unixDgram.createSocket('unix_dgram', (m) => got.push(m.toString()));
    listener.bind(join(dir, 'notify'));
    try {
      const n = systemdNotifier({ NOTIFY_SOCKET: join(dir, 'notify') });
      expect(n.notify('READY=1', 'STATUS=running')).toBe(true);
      n.close();
      for (let i = 0; i < 100 && !got.length; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(['READY=1\nSTATUS=running']);
    } finally {
      listener.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
