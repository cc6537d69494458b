import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, closeSync, constants as fsc, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../log/logger.js';
import { ScriptHost } from '../script/index.js';
import { script } from '../config/build-values.js';
import { until } from '../../test/helpers/netns.js';
import { fifoPlan, NotifyFifos, realServerFifoLine, virtualServerFifoLine, vrrpFifoLine } from './fifo.js';

const dir = mkdtempSync('/tmp/kt-notify-fifo-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const logged: string[] = [];
const log = createLogger({ proc: 'vrrp', write: (l: string) => void logged.push(l) });
const none = { notifyFifo: null, vrrpNotifyFifo: null, lvsNotifyFifo: null };

describe('notify FIFO lines (keepalived 2.2.7 vrrp_notify.c, ipwrapper.c)', () => {
  it('instances carry their effective priority, groups 0', () => {
    expect(vrrpFifoLine('INSTANCE', 'VI_1', 'MASTER', 150)).toBe('INSTANCE "VI_1" MASTER 150\n');
    expect(vrrpFifoLine('INSTANCE', 'VI_1', 'BACKUP_PRIORITY', 90)).toBe('INSTANCE "VI_1" BACKUP_PRIORITY 90\n');
    expect(vrrpFifoLine('GROUP', 'G1', 'BACKUP', 100)).toBe('GROUP "G1" BACKUP 0\n');
    expect(virtualServerFifoLine('[10.0.0.1]:tcp:80', true)).toBe('VS [10.0.0.1]:tcp:80 UP\n');
    expect(realServerFifoLine('[10.0.0.2]:tcp:80', '[10.0.0.1]:tcp:80', false)).toBe('RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN\n');
  });
});

describe('which FIFOs a child opens', () => {
  const f = (path: string, cmd?: string) => ({ path, script: cmd ? script(cmd) : null });
  it('the global FIFO first, then its own side; not the other side', () => {
    const g = { notifyFifo: f('/run/a'), vrrpNotifyFifo: f('/run/v'), lvsNotifyFifo: f('/run/l') };
    expect(fifoPlan(g, 'vrrp').fifos.map((x) => [x.keyword, x.path])).toEqual([
      ['notify_fifo', '/run/a'],
      ['vrrp_notify_fifo', '/run/v'],
    ]);
    expect(fifoPlan(g, 'lvs').fifos.map((x) => [x.keyword, x.path])).toEqual([
      ['notify_fifo', '/run/a'],
      ['lvs_notify_fifo', '/run/l'],
    ]);
    expect(fifoPlan(none, 'vrrp')).toEqual({ fifos: [], notes: [] });
  });
  it('a side FIFO on the global path is dropped, as keepalived logs', () => {
    const p = fifoPlan({ ...none, notifyFifo: f('/run/a'), vrrpNotifyFifo: f('/run/a', 'x') }, 'vrrp');
    expect(p.fifos.map((x) => x.keyword)).toEqual(['notify_fifo']);
    expect(p.notes).toEqual(['notify FIFO /run/a has been specified for global and vrrp FIFO - ignoring vrrp FIFO']);
  });
  it('VRRP and LVS on one path, both with scripts: the LVS script is dropped', () => {
    const p = fifoPlan({ ...none, vrrpNotifyFifo: f('/run/s', '/bin/v'), lvsNotifyFifo: f('/run/s', '/bin/l') }, 'lvs');
    expect(p.fifos).toEqual([{ keyword: 'lvs_notify_fifo', path: '/run/s', script: null }]);
    expect(p.notes).toEqual(['LVS notify FIFO and vrrp FIFO are the same both with scripts - ignoring LVS FIFO script']);
  });
});

describe('NotifyFifos', () => {
  const host = new ScriptHost({ log });
  host.load({ scriptUser: null, enableScriptSecurity: false }, []);

  it('creates the FIFO, never blocks without a reader, and a reader gets the lines; removes what it created', () => {
    const path = join(dir, 'fifo');
    const f = new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path, script: null }], notes: [] }, 'vrrp', host, log);
    expect(statSync(path).isFIFO()).toBe(true);
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'BACKUP', 100)); // nobody reading: must not block
    const fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'MASTER', 100));
    const buf = Buffer.alloc(200);
    const n = readSync(fd, buf);
    closeSync(fd);
    f.close();
    expect(buf.subarray(0, n).toString()).toBe('INSTANCE "VI_1" BACKUP 100\nINSTANCE "VI_1" MASTER 100\n');
    expect(existsSync(path)).toBe(false);
  });

  it('starts the FIFO script with the path as its last argument; it reads the lines; closing ends it', async () => {
    const path = join(dir, 'fifo2');
    const out = join(dir, 'read.txt');
    const reader = join(dir, 'reader.sh');
    writeFileSync(reader, `#!/bin/sh\necho "args: $1 $2" > ${out}\nwhile read -r l; do echo "$l" >> ${out}; done < "$2"\n`);
    chmodSync(reader, 0o755);
    const f = new NotifyFifos({ fifos: [{ keyword: 'notify_fifo', path, script: script(`${reader} first`) }], notes: [] }, 'vrrp', host, log);
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'MASTER', 150));
    // lines written before the reader opens wait in the pipe while we hold it open
    await until(() => existsSync(out) && readFileSync(out, 'utf8').includes('MASTER'), 5_000, 'reader got the first line');
    f.write(vrrpFifoLine('INSTANCE', 'VI_1', 'BACKUP', 150));
    await until(() => readFileSync(out, 'utf8').includes('BACKUP'), 5_000, 'reader got the second line');
    f.close();
    await until(() => logged.some((l) => l.includes('vrrp notify fifo script terminated')), 5_000, 'reader ended');
    expect(readFileSync(out, 'utf8')).toBe(`args: first ${path}\nINSTANCE "VI_1" MASTER 150\nINSTANCE "VI_1" BACKUP 150\n`);
    expect(existsSync(path)).toBe(false);
  });

  it('leaves a FIFO it did not create in place, and refuses a regular file', () => {
    const plain = join(dir, 'plain');
    writeFileSync(plain, '');
    const f = new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path: plain, script: null }], notes: [] }, 'vrrp', host, log);
    expect(f.paths).toEqual([]);
    expect(logged.some((l) => l.includes(`Unable to open vrrp_notify fifo ${plain}`))).toBe(true);
    const path = join(dir, 'fifo3');
    new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path, script: null }], notes: [] }, 'vrrp', host, log); // creates it
    const again = new NotifyFifos({ fifos: [{ keyword: 'vrrp_notify_fifo', path, script: null }], notes: [] }, 'vrrp', host, log);
    again.close();
    expect(statSync(path).isFIFO()).toBe(true);
  });
});
