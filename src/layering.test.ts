/**
 * The import layering of src/, checked on every `npm test`: which folder may import which,
 * and no import cycle, between folders or between files. Type-only and dynamic imports count
 * (a cycle of types is still a cycle a reader has to untangle). Test files are not checked:
 * a test may reach across layers to exercise two of them together.
 *
 * To add an import the table does not allow, add it to ALLOWED below only if the layering
 * stays one-way (the test fails on a table with a cycle); otherwise move the shared piece
 * down, or pass it in from above as an argument.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Who may import whom: a row reads "FOLDER (under src/) may import these". Rows go from the
 * bottom layer up. The flow it keeps one-way: config -> vrrp / checker -> ipvs / netlink ->
 * native; dump, metrics, log, watchdog, notify and script are leaves beside them (log names
 * checkers as keepalived does, so it reads the config model's types).
 */
const ALLOWED: Record<string, readonly string[]> = {
  // address text <-> bytes and prefix arithmetic: pure, imports nothing of ours
  ip: [],
  // the kernel and the C addons (a failure to catch a signal is logged)
  native: ['log'],
  netlink: ['ip', 'native'],
  ipvs: ['netlink'],
  // keepalived.conf: front end, model, validation (its keyword schema is grammar/, outside src/)
  config: ['grammar', 'ip'],
  // leaves: logging, the parent<->child protocol (it carries the accepted config and held VIPs), metrics, dump formatters, alert mail
  log: ['config'],
  watchdog: ['clock', 'config', 'log', 'netlink'],
  metrics: ['watchdog'],
  dump: ['config', 'ipvs'],
  notify: ['config', 'script'],
  // the one script runner: users, vetting, process groups
  script: ['config'],
  // the directories run-time state files live in (pid files, the owned IPVS list)
  fs: [],
  // time as a port (the real clock, and the fake one tests drive)
  clock: [],
  // the process-level settings (real-time priority, nice, memory locking, CPU affinity) a child applies
  process: ['config', 'log', 'native'],
  // bgp_announce: which routes to hold, and the kernel routes FRR/BIRD redistribute
  announce: ['config', 'ip', 'log', 'native', 'netlink'],
  // the VRRP firewall (accept mode): nftables tables from the VIPs instances hold, applied with `nft`
  firewall: ['config', 'log'],
  // health probes (TCP_CHECK's addresses as bytes come from the IPVS model)
  probe: ['clock', 'config', 'ipvs', 'native', 'script'],
  // the two children
  vrrp: ['announce', 'clock', 'config', 'dump', 'firewall', 'log', 'metrics', 'native', 'netlink', 'notify', 'process', 'script', 'watchdog'],
  checker: ['announce', 'clock', 'config', 'dump', 'fs', 'ipvs', 'log', 'metrics', 'native', 'netlink', 'notify', 'probe', 'process', 'script', 'watchdog'],
  // the parent (it starts the children as processes, it does not import them), and the
  // command line that starts it
  daemon: ['announce', 'config', 'fs', 'log', 'metrics', 'native', 'process', 'watchdog'],
  cli: ['config', 'daemon', 'native', 'probe', 'script', 'grammar'],
  // ambient declarations for untyped packages
  types: [],
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Relative imports of each file (static, re-exports, dynamic; type-only too), resolved to .ts paths. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    graph.set(
      file,
      importedFiles
        .map((f) => f.fileName)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts'))),
    );
  }
  return graph;
}

/** The layer a path belongs to: its first folder under src/, or `grammar` for grammar/. */
function unitOf(path: string): string {
  const rel = relative(src, path).split(sep);
  if (rel[0] !== '..') return rel.length > 1 ? rel[0]! : `src/${rel[0]}`;
  const fromRoot = relative(root, path).split(sep);
  return fromRoot[0] === 'grammar' ? 'grammar' : relative(root, path);
}

/** Strongly connected components with more than one member (Tarjan). */
function cycles(nodes: Iterable<string>, edges: (n: string) => readonly string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

const files = sourceFiles(src);
const graph = importGraph(files);
const show = (p: string): string => relative(root, p);

describe('import layering of src/', () => {
  it('the table itself is one-way (no folder reaches itself through others)', () => {
    expect(cycles(Object.keys(ALLOWED), (n) => ALLOWED[n] ?? [])).toEqual([]);
  });

  it('every folder under src/ has a row, so a new one is placed deliberately', () => {
    const folders = readdirSync(src, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !(f in ALLOWED))).toEqual([]);
  });

  it('every import across folders is one the table allows', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = unitOf(file);
      for (const target of targets) {
        const to = unitOf(target);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to)) violations.push(`${show(file)} imports ${show(target)} (${from} -> ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('no file imports itself through others', () => {
    const known = new Set(files);
    expect(cycles(files, (f) => (graph.get(f) ?? []).filter((t) => known.has(t))).map((c) => c.map(show))).toEqual([]);
  });

  it('sees the imports it checks: dynamic and type-only ones too', () => {
    const targets = (f: string): string[] => [...new Set((graph.get(join(src, f)) ?? []).map(unitOf))];
    expect(targets('cli/main.ts')).toEqual(expect.arrayContaining(['daemon', 'native'])); // only await import(...)
    expect(targets('vrrp/engine-plan.ts')).toEqual(expect.arrayContaining(['netlink'])); // only import type
  });
});
