import { describe, expect, it } from 'vitest';
import { splitStatements } from '../config/build-testkit.js';
import { buildAndValidate } from '../config/build-pipeline.js';
import type { KeepalivedConfig } from '../config/model.js';
import { createLogger } from '../log/logger.js';
import type { KernelRoute, Link, RouteNetlink, RouteSpec } from '../netlink/index.js';
import { Announcements } from './announcements.js';
import type { AnnouncedRoute } from './decide.js';

/** The kernel's routes and links as far as RouteAnnouncer uses them. */
class FakeKernel {
  routes: KernelRoute[] = [];
  links = new Map<string, number>();
  private next = 10;
  open = (name: string) => {
    this.links.set(name, this.next++);
    return () => {
      const index = this.links.get(name);
      this.links.delete(name);
      this.routes = this.routes.filter((r) => r.ifindex !== index);
    };
  };
  rtnl = {
    getLink: (name: string) => Promise.resolve(this.links.has(name) ? ({ index: this.links.get(name)!, name } as Link) : null),
    setLinkUp: () => Promise.resolve(),
    listRoutes: (family: 4 | 6, table: number) => Promise.resolve(this.routes.filter((r) => r.family === family && r.table === table)),
    addRoute: (r: RouteSpec) => {
      this.routes.push({ ...r });
      return Promise.resolve('added' as const);
    },
    deleteRoute: (r: RouteSpec) => {
      this.routes = this.routes.filter((x) => !(x.destination === r.destination && x.metric === r.metric && x.table === r.table && x.type === r.type));
      return Promise.resolve('deleted' as const);
    },
  } as unknown as RouteNetlink;
  /** What is announced (main table) and what is local, as `kind network metric`. */
  view(): string[] {
    return this.routes.map((r) => `${r.table === 255 ? 'local' : 'announce'} ${r.destination}/${r.length} ${r.metric}`).sort();
  }
}

function config(text: string): KeepalivedConfig {
  const r = buildAndValidate(splitStatements(text, 't.conf'), ['t.conf'], [], 'h', null);
  if (!r.config) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.config;
}
const CONF = config(`virtual_server 10.0.0.1 80 {
  lvs_sched mh
  lvs_method DR
  protocol TCP
  inhibit_on_failure
  real_server 10.0.1.1 80 {
  }
}
bgp_announce {
  drain 0.05
  prefix 10.0.0.1/32 {
  }
}`);
const route = (kind: AnnouncedRoute['kind']): AnnouncedRoute => ({ kind, family: 4, network: '10.0.0.1', length: 32, metric: 0 });
const log = createLogger({ proc: 'checker', write: () => {} });

describe('Announcements (checker side, fake kernel)', () => {
  it('announces, withdraws for the drain while staying local, ignores state changes meanwhile, and leaves nothing', async () => {
    const k = new FakeKernel();
    const a = new Announcements(k.rtnl, log, 'quorum', k.open);
    await a.configure(CONF);
    a.sync(() => [route('local'), route('announce')]);
    await new Promise((r) => setTimeout(r, 20));
    expect(k.view()).toEqual(['announce 10.0.0.1/32 0', 'local 10.0.0.1/32 0']);

    let sawDuringDrain: string[] = [];
    await a.drain(
      () => [route('local')],
      async (ms) => {
        // a reconcile pass while draining asks for the announcement again: not granted
        a.sync(() => [route('local'), route('announce')]);
        await new Promise((r) => setTimeout(r, ms));
        sawDuringDrain = k.view();
      },
    );
    expect(sawDuringDrain).toEqual(['local 10.0.0.1/32 0']);
    await a.close();
    expect(k.view()).toEqual([]);
    expect(k.links.size).toBe(0);
  });

  it('a config without quorum prefixes opens nothing', async () => {
    const k = new FakeKernel();
    const a = new Announcements(k.rtnl, log, 'vrrp', k.open);
    await a.configure(CONF);
    a.sync(() => [route('announce')]);
    await new Promise((r) => setTimeout(r, 20));
    expect(k.view()).toEqual([]);
    expect(k.links.size).toBe(0);
  });
});
