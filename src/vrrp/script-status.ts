// vrrp_script rise/fall (keepalived's counter): pure, results in, status out.
//
// The counter runs 0 .. rise+fall-1. The script counts as good while counter >= rise.
// Successes climb one step at a time until rise-1, and the success that reaches rise jumps
// straight to the top (so `fall` failures are then needed to go bad); failures step down
// to rise, and the failure below rise drops straight to 0 (so `rise` successes are needed).

export type ScriptStatus = 'init' | 'good' | 'bad';

export interface ScriptCounter {
  counter: number;
  status: ScriptStatus;
}

export interface RiseFall {
  rise: number;
  fall: number;
  /** init_fail: start as failed instead of "one result decides". */
  initFail: boolean;
}

export function initialScriptCounter(rf: RiseFall): ScriptCounter {
  // keepalived: an undecided script sits at rise-1, so the first success makes it good and
  // the first failure bad; init_fail starts it failed at 0
  return rf.initFail ? { counter: 0, status: 'bad' } : { counter: Math.max(0, rf.rise - 1), status: 'init' };
}

export interface ScriptResultOutcome {
  next: ScriptCounter;
  /** Set when the status changed (the instance must recompute its priority / fault). */
  changedTo: ScriptStatus | null;
}

export function applyScriptResult(cur: ScriptCounter, success: boolean, rf: RiseFall): ScriptResultOutcome {
  const rise = Math.max(1, rf.rise);
  const fall = Math.max(1, rf.fall);
  const top = rise + fall - 1;
  let counter = cur.counter;
  let status: ScriptStatus = cur.status;
  if (success) {
    if (counter < rise - 1) counter++;
    else {
      if (counter < rise) status = 'good';
      counter = top;
    }
  } else {
    if (counter > rise) counter--;
    else {
      status = 'bad';
      counter = 0;
    }
  }
  return { next: { counter, status }, changedTo: status !== cur.status ? status : null };
}
