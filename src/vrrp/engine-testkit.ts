// Test helper: a real config (through the real loader) from text, for the VRRP engine's
// unit tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import type { KeepalivedConfig } from '../config/model.js';
import type { RouteNotice } from '../netlink/index.js';

let dir: string | null = null;
let n = 0;

export function configOf(text: string): KeepalivedConfig {
  dir ??= mkdtempSync('/tmp/kt-vr-cfg-');
  const p = join(dir, `${++n}.conf`);
  writeFileSync(p, text);
  const r = loadConfig(p, { hostname: 'test' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !r.config) throw new Error(errors.map((e) => e.message).join('\n'));
  return r.config;
}

/** For afterAll: vitest ends its workers without an 'exit' event. */
export function removeConfigFiles(): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
}

export const instanceText = (name: string, vrid: number, iface = 'eth0', extra = '', vips: string[] = ['10.0.0.100/24']) => `
vrrp_instance ${name} {
  interface ${iface}
  virtual_router_id ${vrid}
  priority 100
  virtual_ipaddress {
${vips.map((v) => `    ${v}`).join('\n')}
  }
${extra}
}
`;

/** A route removal as the kernel announces one of keepalived's (protocol 18, main table, through ifindex 2). */
export const removedRoute = (destination: string, length: number, more: Partial<RouteNotice> = {}): RouteNotice => ({
  family: 4,
  destination,
  length,
  tos: 0,
  table: 254,
  protocol: 18,
  oif: 2,
  priority: 0,
  ...more,
});
