/**
 * The systemd deployment: the repository's unit (packaging/keepalived-ts.service), unchanged,
 * run by a real systemd as PID 1 (this scenario runs in a boot of its own, `vm.sh -s`; see
 * kernel.test.ts), with /etc/default/keepalived giving $DAEMON_ARGS as Debian's does.
 *
 *   - `systemctl start` returns once the daemon said READY=1 (Type=notify): both children
 *     run by then; MainPID is the pid file's; VRRP becomes MASTER with its VIP
 *   - `systemctl reload` with a broken file: refused (ExecReload's config test, exit 4),
 *     `systemctl status` shows the error at file:line:column; the daemon keeps its config
 *   - a HUP that skips the check (`systemctl kill -s HUP`) with the broken file: the daemon
 *     refuses it itself and logs the error at priority err (`journalctl -p err` finds it)
 *   - an edit + `systemctl restart`: a new main process with the new VIP, the old one gone
 *   - `systemctl stop`: inactive, the VIP released, the pid file removed
 *   - `journalctl -u`: keepalived's idents and lines
 *
 * The emulated guest on a loaded host starts the daemon in minutes, past systemd's default
 * 90 s for a start: a drop-in raises TimeoutStartSec (and --child-start-timeout comes through
 * $DAEMON_ARGS), as an operator of a machine that slow would; the unit itself is the repository's.
 * The unit's command is /usr/local/bin/keepalived-ts: an overlay on the guest's read-only
 * /usr/local/bin links it to this project's bin/keepalived-ts. Waits poll `ip` every 2 s at
 * most (a spawn costs the one-vCPU guest enough to matter while the daemon starts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { pidFileAlive as livePid, readIfExists as read, scenarioProgress, sleep, type Scenario, type ScenarioContext } from '../scenario.js';

const UNIT = 'keepalived-ts';
const IFACE = 'kt-sd0';
const VIP1 = '10.94.0.100';
const VIP2 = '10.94.0.101';
const CONF = '/etc/keepalived/keepalived.conf';
const PID_FILE = '/run/keepalived.pid';
const OVERLAY = '/run/kt-sd';
/** The emulated guest loads node and our modules slowly: the operator's knob, through Debian's file. */
const DAEMON_ARGS = '--child-start-timeout=120';
const WAIT_MS = 120_000;

const conf = (vip: string, broken = false) => `global_defs {
  router_id kt_sd
}
vrrp_instance VI_1 {
  state MASTER
  interface ${IFACE}
  virtual_router_id 94
  priority 150
  advert_int 1
  virtual_ipaddress {
    ${vip}/24
  }
}
virtual_server ${vip} 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.94.0.2 80 {
  }
}
${broken ? 'vrrp_instance VI_2 {\n  virtual_router_id 300\n}\n' : ''}`;

const progress = (ctx: ScenarioContext, m: string) => scenarioProgress(ctx, 'systemd', m);

const addrs = (ctx: ScenarioContext) => ctx.sh(`ip -o -4 addr show dev ${IFACE}`).then((r) => r.stdout);
const show = (ctx: ScenarioContext, prop: string) => ctx.sh(`systemctl show -p ${prop} --value ${UNIT}`).then((r) => r.stdout.trim());

async function waitFor(ctx: ScenarioContext, what: string, ok: () => Promise<boolean>): Promise<boolean> {
  const started = Date.now();
  while (Date.now() - started < WAIT_MS) {
    if (await ok()) {
      progress(ctx, `${what}: after ${Date.now() - started} ms`);
      return true;
    }
    await sleep(2000);
  }
  progress(ctx, `${what}: not within ${WAIT_MS} ms\n${(await ctx.sh(`systemctl status --no-pager -n 30 ${UNIT}`)).stdout}`);
  return false;
}

const scenario: Scenario = {
  name: 'systemd',
  timeoutMs: 600_000,
  async run(ctx) {
    const pid1 = read('/proc/1/comm').trim();
    if (pid1 !== 'systemd') throw new Error(`PID 1 is ${pid1 || 'unknown'}, not systemd: this scenario runs in the systemd boot (vm.sh -s)`);
    const project = process.cwd();
    try {
      mkdirSync(`${OVERLAY}/u`, { recursive: true });
      mkdirSync(`${OVERLAY}/w`, { recursive: true });
      mkdirSync('/etc/keepalived', { recursive: true });
      writeFileSync(CONF, conf(VIP1));
      writeFileSync('/etc/default/keepalived', `# Options to pass to keepalived\nDAEMON_ARGS="${DAEMON_ARGS}"\n`);
      await ctx.shOk(
        [
          `mount -t overlay -o lowerdir=/usr/local/bin,upperdir=${OVERLAY}/u,workdir=${OVERLAY}/w overlay /usr/local/bin`,
          `ln -sf ${project}/bin/keepalived-ts /usr/local/bin/keepalived-ts`,
          `cp ${project}/packaging/${UNIT}.service /etc/systemd/system/`,
          `mkdir -p /etc/systemd/system/${UNIT}.service.d`,
          `printf '[Service]\\nTimeoutStartSec=600\\n' > /etc/systemd/system/${UNIT}.service.d/slow-machine.conf`,
          `ip link add ${IFACE} type veth peer name kt-sd1`,
          `ip addr add 10.94.0.1/24 dev ${IFACE}`,
          `ip link set ${IFACE} up && ip link set kt-sd1 up`,
          'systemctl daemon-reload',
        ].join(' && '),
      );

      // ---- start -----------------------------------------------------------------------
      const startAt = Date.now();
      const start = await ctx.sh(`systemctl start ${UNIT}`);
      progress(ctx, `FIGURE systemctl start: ${Date.now() - startAt} ms to READY=1 (exit ${start.code} ${start.stderr.trim()})`);
      ctx.check('systemctl start: exit 0 (Type=notify: after READY=1)', start.code, 0);
      ctx.check('... both children run when it returns', [livePid('/run/keepalived_vrrp.pid'), livePid('/run/keepalived_checkers.pid')], [true, true]);
      const mainPid = await show(ctx, 'MainPID');
      ctx.check("... MainPID is the pid file's", mainPid, read(PID_FILE).trim());
      ctx.check('... active (running)', [await show(ctx, 'ActiveState'), await show(ctx, 'SubState')], ['active', 'running']);
      ctx.check('VRRP MASTER holds the VIP', await waitFor(ctx, 'the VIP', async () => (await addrs(ctx)).includes(`${VIP1}/24`)), true);

      // ---- reload with a broken file ---------------------------------------------------
      writeFileSync(CONF, conf(VIP1, true));
      const reload = await ctx.sh(`systemctl reload ${UNIT}`);
      ctx.check('systemctl reload of a broken file fails', reload.code === 0, false);
      const status = (await ctx.sh(`systemctl status --no-pager -n 40 ${UNIT}`)).stdout;
      progress(ctx, `systemctl status after the refused reload:\n${status}`);
      ctx.check('... systemctl status shows the error at file:line:column', new RegExp(`${CONF}:\\d+:\\d+: error: `).test(status), true);
      ctx.check('... and the refused ExecReload', /ExecReload=.*status=4/.test(status), true);
      ctx.check('... the daemon still runs, the same main process', [await show(ctx, 'ActiveState'), await show(ctx, 'MainPID')], ['active', mainPid]);

      const hup = await ctx.sh(`systemctl kill -s HUP --kill-whom=main ${UNIT}`);
      ctx.check('a HUP that skips the check (systemctl kill -s HUP) is delivered', hup.code, 0);
      const refusedErr = async () => (await ctx.sh(`journalctl -q -u ${UNIT} -p err --no-pager`)).stdout;
      ctx.check(
        '... the daemon refuses the file itself: journalctl -p err has the error at file:line:column',
        await waitFor(ctx, 'the refused reload at priority err', async () => new RegExp(`${CONF}:\\d+:\\d+`).test(await refusedErr())),
        true,
      );
      progress(ctx, `journalctl -p err:\n${await refusedErr()}`);
      ctx.check(
        '... and keeps the old config: same main process, the VIP held',
        [await show(ctx, 'MainPID'), (await addrs(ctx)).includes(`${VIP1}/24`)],
        [mainPid, true],
      );

      // ---- edit + restart --------------------------------------------------------------
      writeFileSync(CONF, conf(VIP2));
      const restartAt = Date.now();
      const restart = await ctx.sh(`systemctl restart ${UNIT}`);
      progress(ctx, `FIGURE systemctl restart: ${Date.now() - restartAt} ms to READY=1`);
      ctx.check('systemctl restart after an edit: exit 0', restart.code, 0);
      const newPid = await show(ctx, 'MainPID');
      ctx.check('... a new main process, the pid file says so', [newPid !== mainPid, read(PID_FILE).trim()], [true, newPid]);
      ctx.check('... the new VIP', await waitFor(ctx, 'the new VIP', async () => (await addrs(ctx)).includes(`${VIP2}/24`)), true);
      ctx.check('... the old VIP released', (await addrs(ctx)).includes(`${VIP1}/24`), false);

      // ---- stop ------------------------------------------------------------------------
      const stop = await ctx.sh(`systemctl stop ${UNIT}`);
      ctx.check('systemctl stop: exit 0, inactive', [stop.code, await show(ctx, 'ActiveState')], [0, 'inactive']);
      ctx.check('... the VIP released, the pid file removed', [(await addrs(ctx)).includes(`${VIP2}/24`), existsSync(PID_FILE)], [false, false]);

      // ---- the journal -----------------------------------------------------------------
      const journal = (await ctx.sh(`journalctl -q -u ${UNIT} -o short --no-pager`)).stdout;
      progress(ctx, `journalctl -u ${UNIT} (tail):\n${journal.split('\n').slice(-25).join('\n')}`);
      ctx.check(
        "journalctl -u shows keepalived's idents and lines",
        [/ Keepalived\[\d+\]: /, / Keepalived_vrrp\[\d+\]: \(VI_1\) Entering MASTER STATE/, / Keepalived_healthcheckers\[\d+\]: /].map((re) =>
          re.test(journal),
        ),
        [true, true, true],
      );
    } finally {
      await ctx.sh(
        `systemctl stop ${UNIT}; ip link del ${IFACE}; ipvsadm -C; umount /usr/local/bin; rm -rf ${OVERLAY} /etc/systemd/system/${UNIT}.service /etc/systemd/system/${UNIT}.service.d; systemctl daemon-reload`,
      );
    }
  },
};

export default scenario;
