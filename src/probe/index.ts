// The health-check component's public surface: run one check, compute a genhash digest,
// or keep a set of real servers checked on their timers.
export { runCheck } from './run-check.js';
export type { CheckContext, CheckOutcome, CheckTarget, Endpoint } from './outcome.js';
export { resolveEndpoint } from './outcome.js';
export { genhash, type GenhashOptions } from './http-check.js';
export { afterAttempt, initialState, type CheckerState, type RetryConfig, type Step } from './checker-state.js';
export { realServerHealth, IPVS_WEIGHT_MAX, type RealServerHealth } from './real-server-health.js';
export {
  CheckScheduler,
  realServerKey,
  startOffset,
  watchFileByDirectory,
  type AddOptions,
  type CheckRunner,
  type CheckerEvent,
  type FileWatcher,
  type RealServerEvent,
  type SchedulerListener,
  type SchedulerOptions,
} from './scheduler.js';
