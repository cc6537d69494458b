// Exit codes shared by the parent and its children. The values follow keepalived's own
// (keepalived.h), so scripts and unit files that inspect them keep working.
export const EXIT_OK = 0;
export const EXIT_NO_MEMORY = 1;
export const EXIT_PROGRAM_ERROR = 2;
export const EXIT_FATAL = 3;
export const EXIT_CONFIG = 4;
export const EXIT_CONFIG_TEST = 5;
export const EXIT_CONFIG_TEST_SECURITY = 6;
export const EXIT_MISSING_PERMISSION = 7;

/** A child that exits with one of these must not be respawned: the daemon stops with it. */
export function isTerminalExit(code: number | null): boolean {
  return code === EXIT_FATAL || code === EXIT_CONFIG || code === EXIT_MISSING_PERMISSION;
}
