/**
 * HTTP_GET / SSL_GET verdicts, keepalived 2.2.7 beside ours on the same keepalived.conf: real
 * servers whose answer depends on what the checker sends (the Host header from a url,
 * checker or real server virtualhost, the TLS SNI with enable_sni, the HTTP version and
 * Connection: close of http_protocol, a client certificate from the SSL block) or whose body
 * a url regex judges (a PCRE2 `$` before a final newline, regex_no_match). keepalived's
 * checker needs kernel IPVS, hence the VM: each checker's verdict is its real server being in
 * or out of the `ipvsadm -Ln` table, and both must leave the same table.
 *
 * The servers run in a process of their own (test/kernel/http-ssl-servers.ts, one listener per
 * real server address on lo); ours is the CheckerEngine in-process, as in checker-datapath.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { CheckerEngine } from '../../../src/checker/engine.js';
import { fileOwnedStore } from '../../../src/checker/owned.js';
import { IpvsClient } from '../../../src/ipvs/client.js';
import { createLogger, recordText } from '../../../src/log/logger.js';
import { runCheck } from '../../../src/probe/run-check.js';
import { selfSigned } from '../../helpers/self-signed.js';
import { loadConfigFast } from '../guest-config.js';
import type { Scenario, ScenarioContext } from '../scenario.js';

const DIR = '/tmp/kt-hsp';
const CONF = `${DIR}/keepalived.conf`;
const VIP = '10.96.0.1';
const rsIp = (n: number) => `10.96.1.${n}`;
const SERVERS_JS = new URL('../http-ssl-servers.js', import.meta.url).pathname;

/** What each real server answers; `up`: the verdict keepalived's semantics give it. */
const SERVERS: { n: number; tls?: 'plain' | 'client-cert'; up: boolean; checker: string; rsLines?: string }[] = [
  { n: 1, up: true, checker: 'HTTP_GET {\n virtualhost good.example\n url {\n  path /vhost\n }' },
  { n: 2, up: false, checker: 'HTTP_GET {\n virtualhost good.example\n url {\n  path /vhost\n  virtualhost bad.example\n }' },
  { n: 3, up: true, rsLines: 'virtualhost good.example', checker: 'HTTP_GET {\n url {\n  path /vhost\n }' },
  // keepalived matches with PCRE2_PARTIAL_HARD: a `$` at the body's end stays a partial match,
  // so this url fails although the body ends in "status: OK\n"; the multiline one sees the LF
  { n: 4, up: false, checker: 'HTTP_GET {\n url {\n  path /page\n  regex "status: OK$"\n }' },
  { n: 12, up: true, checker: 'HTTP_GET {\n url {\n  path /page\n  regex "^status: OK$"\n  regex_options multiline\n }' },
  { n: 5, up: false, checker: 'HTTP_GET {\n url {\n  path /page\n  regex "degraded"\n }' },
  { n: 6, up: true, checker: 'HTTP_GET {\n url {\n  path /page\n  regex "degraded"\n  regex_no_match\n }' },
  { n: 7, up: true, checker: 'HTTP_GET {\n http_protocol 1.1\n url {\n  path /http11-close\n }' },
  { n: 8, up: false, checker: 'HTTP_GET {\n url {\n  path /http11-close\n }' },
  { n: 9, tls: 'plain', up: true, checker: 'SSL_GET {\n enable_sni\n virtualhost sni.example\n url {\n  path /sni\n }' },
  { n: 10, tls: 'plain', up: false, checker: 'SSL_GET {\n virtualhost sni.example\n url {\n  path /sni\n }' },
  { n: 11, tls: 'client-cert', up: true, checker: 'SSL_GET {\n url {\n  path /page\n }' },
];

export const conf = `global_defs {
  router_id kt_hsp
}
SSL {
  password secret
  certificate ${DIR}/client-cert.pem
  key ${DIR}/client-key.pem
}
virtual_server ${VIP} 80 {
  delay_loop 2
  lb_algo rr
  lb_kind NAT
  protocol TCP
${SERVERS.map(
  (s) => `  real_server ${rsIp(s.n)} ${s.tls ? 443 : 80} {
    weight 1
    ${s.rsLines ?? ''}
    ${s.checker}
      connect_timeout 5
      retry 2
      delay_before_retry 1
    }
  }`,
).join('\n')}
}
`;

/** Real servers in `ipvsadm -Ln`, as "ip:port". */
async function destinations(ctx: ScenarioContext): Promise<string[]> {
  const out = (await ctx.sh('ipvsadm -Ln')).stdout;
  return [...out.matchAll(/->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+\S+\s+\d+/g)].map((m) => m[1]!).sort();
}

async function waitFor(ctx: ScenarioContext, what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  ctx.log(`${what}: not reached within ${ms} ms`);
}

const scenario: Scenario = {
  name: 'http-ssl-parity',
  async run(ctx) {
    let engine: CheckerEngine | null = null;
    let ipvs: IpvsClient | null = null;
    const expected = SERVERS.filter((s) => s.up)
      .map((s) => `${rsIp(s.n)}:${s.tls ? 443 : 80}`)
      .sort();
    try {
      mkdirSync(DIR, { recursive: true });
      writeFileSync(CONF, conf);
      selfSigned(DIR, 'server', '/CN=real.server');
      selfSigned(DIR, 'client', '/CN=keepalived-client', 'secret');
      await ctx.shOk(['ipvsadm -C', `ip addr add ${VIP}/32 dev lo`, ...SERVERS.map((s) => `ip addr add ${rsIp(s.n)}/32 dev lo`)].join(' && '));
      const listeners = SERVERS.map((s) => `${rsIp(s.n)}:${s.tls ? 443 : 80}:${s.tls === 'plain' ? 'tls' : (s.tls ?? 'http')}`);
      await ctx.shOk(`node ${SERVERS_JS} ${DIR} ${listeners.join(' ')} > ${DIR}/servers.log 2>&1 & echo $! > ${DIR}/servers.bg`);
      await waitFor(
        ctx,
        'servers listening',
        async () => (await ctx.sh(`ss -Hltn 'sport = :80 or sport = :443' | wc -l`)).stdout.trim() === String(SERVERS.length),
        60_000,
      );

      // ---- keepalived 2.2.7 --------------------------------------------------------------
      await ctx.shOk(`keepalived -n -l -C -f ${CONF} -p ${DIR}/ka.pid -c ${DIR}/ka-c.pid > ${DIR}/ka.log 2>&1 & echo $! > ${DIR}/ka.bg`);
      await waitFor(ctx, 'keepalived settled', async () => (await destinations(ctx)).join() === expected.join(), 60_000);
      await new Promise((r) => setTimeout(r, 3000)); // a few more delay_loops: the table must stay
      const theirs = await destinations(ctx);
      const kaLog = readFileSync(`${DIR}/ka.log`, 'utf8');
      ctx.log(kaLog);
      // keepalived's verdict lines, echoed by the host test when its table is not the expected one
      if (theirs.join() !== expected.join())
        for (const line of kaLog.split('\n').filter((l) => /HTTP_CHECK|Remote Web|SSL|rror|Terminat|Stopp/.test(l)))
          console.log(`http-ssl-parity: FIGURE keepalived: ${line}`);
      await ctx.sh(`kill $(cat ${DIR}/ka.bg); rm -f ${DIR}/ka.bg; sleep 2; ipvsadm -C`);
      ctx.check("keepalived 2.2.7's verdicts (real servers left in the table)", theirs, expected);

      // ---- ours, same file -------------------------------------------------------------
      const { loadConfig } = await loadConfigFast();
      const loaded = loadConfig(CONF, { configId: 'kt' });
      ctx.check(
        'the config loads without a warning',
        loaded.diagnostics.map((d) => d.message),
        [],
      );
      ipvs = await IpvsClient.open();
      const log = createLogger({ proc: 'checker', detail: true, collect: (r) => ctx.log(`[${r.level}] ${recordText(r.msg, r.fields)}`) });
      engine = new CheckerEngine({ ipvs, owned: fileOwnedStore(`${DIR}/owned.json`), log, runCheck, rereadIntervalMs: 60_000 });
      await engine.start(loaded.config!);
      await waitFor(ctx, 'ours settled', async () => (await destinations(ctx)).join() === expected.join(), 60_000);
      await new Promise((r) => setTimeout(r, 3000));
      ctx.check('our verdicts equal keepalived 2.2.7 on the same file', await destinations(ctx), theirs);
    } finally {
      await engine?.stop().catch(() => {});
      ipvs?.close();
      await ctx.sh(
        [
          `[ -f ${DIR}/ka.bg ] && kill $(cat ${DIR}/ka.bg) && sleep 1`,
          `[ -f ${DIR}/servers.bg ] && kill $(cat ${DIR}/servers.bg)`,
          `ip addr del ${VIP}/32 dev lo`,
          ...SERVERS.map((s) => `ip addr del ${rsIp(s.n)}/32 dev lo`),
          'ipvsadm -C',
        ].join('; '),
      );
    }
  },
};
export default scenario;
