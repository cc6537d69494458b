// The one script runner: who a script runs as, whether it may run, and running it.
export { checkerScriptUses, ownerOf, vrrpScriptUses, type ScriptKind, type ScriptUse } from './config-scripts.js';
export { scriptDiagnostics } from './diagnostics.js';
export { NOTIFY_TIMEOUT_MS, ScriptHost, hostEnvironment, prepareScript, type Prepared, type ScriptEnvironment, type ScriptLog } from './host.js';
export { describeEnd, type ScriptEnd } from './process-groups.js';
export { lookupIds, type Ids, type Owner, type ScriptGlobals } from './users.js';
