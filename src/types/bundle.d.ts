// true in the bundle's code (tools/bundle.mjs defines it), where the process entries are files
// of their own in dist/bundle/, started by their launchers (an entry does not start itself); undeclared at run time in dist/src (tsc) and under vitest, so
// read it with `typeof KEEPALIVED_TS_BUNDLE`.
declare const KEEPALIVED_TS_BUNDLE: true;
