import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../clock/fake-clock.js';
import { deadline, resolveEndpoint } from './outcome.js';

const opts = { connectIp: null, connectPort: null, bindto: null, bindPort: null, bindIf: null };

describe('endpoint resolution', () => {
  it('takes the real server unless connect_ip/connect_port override it', () => {
    expect(resolveEndpoint(opts, { address: '10.0.0.5', port: 80, family: 4 })).toEqual({
      host: '10.0.0.5',
      port: 80,
      family: 4,
      localAddress: null,
      localPort: null,
    });
    expect(resolveEndpoint({ ...opts, connectIp: '2001:db8::9', connectPort: 8080, bindPort: 999 }, { address: '10.0.0.5', port: 80, family: 4 })).toEqual({
      host: '2001:db8::9',
      port: 8080,
      family: 6,
      localAddress: null,
      localPort: 999,
    });
  });
  it('scopes IPv6 link-local addresses to bind_if', () => {
    const ep = resolveEndpoint({ ...opts, bindIf: 'eth1', bindto: 'fe80::1' }, { address: 'fe80::2', port: 80, family: 6 });
    expect(ep).toMatchObject({ host: 'fe80::2%eth1', localAddress: 'fe80::1%eth1' });
  });
});

describe('deadline', () => {
  it('aborts with a TimeoutError after the given time', async () => {
    const clock = new FakeClock();
    const d = deadline(30, undefined, clock);
    await clock.advance(29);
    expect(d.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(d.signal.aborted).toBe(true);
    expect((d.signal.reason as Error).name).toBe('TimeoutError');
    const early = deadline(30, undefined, clock);
    early.dispose(); // the check finished first: its timer is gone
    expect(clock.pending()).toEqual([]);
  });

  it('follows the outer signal, and dispose leaves nothing attached to it', () => {
    const outer = new AbortController();
    for (let i = 0; i < 1000; i++) deadline(10_000, outer.signal).dispose();
    expect(getEventListeners(outer.signal, 'abort')).toHaveLength(0);
    const d = deadline(10_000, outer.signal);
    outer.abort(new Error('stop'));
    expect(d.signal.aborted).toBe(true);
    d.dispose();
  });
});
