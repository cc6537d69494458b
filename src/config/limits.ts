// Bounds of the config front end. Each is far above what a real config reaches (the largest
// we benchmark, 10,000 virtual servers x 10 real servers, nests 4 deep; its size is in
// bench/parse.mjs's output), and each keeps a hostile or broken file (a `-t` of someone else's file, a HUP of
// a runaway generator's output) to bounded memory and time: crossing one is an error located
// where it happened that names the limit, never a hang, a crash or a stack trace.
// keepalived 2.2.7's own bounds are noted where it has one; ours match or exceed them.

const MiB = 1024 * 1024;

/**
 * Bytes in one line. keepalived reads a line into a 1,024-byte buffer and cuts a longer
 * one into pieces it reads as separate lines; no config that works with keepalived comes
 * near this. A longer line (or a macro expansion making one) is reported and left out.
 */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Text read from files, and text produced (after includes and expansions), in one load.
 * Bounds the time a load can take (a plain file is read as it is lexed, so memory does not
 * grow with it) and keeps text offsets within 32 bits. keepalived has no such bound.
 */
export const MAX_CONFIG_BYTES = 512 * MiB;

/**
 * Text of the files read whole at once: a file that needs preprocessing (macros, includes,
 * `@` or `~` lines) and every included file is held while it is read, and so are the files
 * that include it. keepalived reads line by line and holds none.
 */
export const MAX_HELD_BYTES = 128 * MiB;

/**
 * Files open inside each other. keepalived has no counter, but keeps each level's file
 * open, so the open-file limit stops it (1,024 under systemd's default); a file that
 * includes itself is an error here at once.
 */
export const MAX_INCLUDE_DEPTH = 1024;

/** Files read by `include` in one load (a file included twice counts twice). */
export const MAX_INCLUDE_FILES = 100_000;

/**
 * Directory entries the `include` patterns of one load may look at (a pattern of three
 * `*` levels from the root walks most of the file system). keepalived's glob(3) has no bound.
 */
export const MAX_GLOB_ENTRIES = 1_000_000;

/** Patterns one `include` pattern's `{a,b}` alternatives may expand to. */
export const MAX_GLOB_ALTERNATIVES = 1024;

/** Macros expanding macros (also multi-line ones used in expansions, ~SEQ in ~SEQ). */
export const MAX_MACRO_DEPTH = 32;

/** Distinct macro names defined in one load. */
export const MAX_MACROS = 100_000;

/** Text held by macro definitions at once. */
export const MAX_MACRO_BYTES = 64 * MiB;

/**
 * Lines produced by expansions (multi-line macros, ~SEQ and ~LST repetitions) in one load.
 * keepalived expands lazily with no bound, a line at a time for as long as a sequence lasts.
 */
export const MAX_EXPANDED_LINES = 2_000_000;

/**
 * Blocks inside blocks. keepalived's keywords nest at most 5 deep (virtual_server >
 * real_server > HTTP_GET > url); it skips an unknown block by counting its braces.
 */
export const MAX_BLOCK_DEPTH = 128;

/**
 * Statements in one load: bounds the model built from them. The builder keeps up to about 1 KB
 * per statement (a vrrp_instance block: its statements until the end of the file, and its
 * model), so this keeps any load under 1 GB, with room above the 10,000 x 10 config.
 */
export const MAX_STATEMENTS = 800_000;

/**
 * Words in one load (a line may hold thousands): bounds its time. The 10,000 x 10 config
 * has 910,000 (two a statement); this leaves five a statement up to MAX_STATEMENTS.
 */
export const MAX_WORDS = 4_000_000;

/**
 * Words in one top-level statement, its block included (the front end hands each
 * top-level statement over when it is complete, so one is what it holds at once): bounds
 * the syntax tree held. A virtual server with 10,000 real servers has 80,000.
 */
export const MAX_BLOCK_WORDS = 1_000_000;

/**
 * Diagnostics kept per load, by the front end and by the model builder each. A broken
 * file's first thousand errors are more than anyone reads and keep well under a megabyte;
 * a million junk lines would otherwise cost a million messages (hundreds of MB) to say what
 * the first ones say. Past the cap each is only counted, and the report says how many more
 * there were. keepalived logs every one.
 */
export const MAX_DIAGNOSTICS = 1000;

/**
 * The errors saying a bound stopped the reading (or the expanding): each is reported once,
 * and listed even past MAX_DIAGNOSTICS, as what follows it in the report depends on it.
 */
export const STOPPED_CODES: ReadonlySet<string> = new Set([
  'statement-limit',
  'word-limit',
  'block-limit',
  'expansion-limit',
  'include-limit',
  'macro-limit',
  'config-too-large',
]);

/** The message for a line over MAX_LINE_BYTES, wherever it is found. */
export const LINE_TOO_LONG = `line longer than ${formatBytes(MAX_LINE_BYTES)}; it is not read (keepalived reads at most 1,023 bytes of a line)`;

/** `1000000` as `1,000,000`, for counts in messages. */
export function formatCount(n: number): string {
  // not toLocaleString: its first call loads ICU data, a noticeable part of every start
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A byte limit as `512 MiB` / `64 KiB`. */
export function formatBytes(n: number): string {
  if (n % MiB === 0) return `${formatCount(n / MiB)} MiB`;
  if (n % 1024 === 0) return `${formatCount(n / 1024)} KiB`;
  return `${formatCount(n)} bytes`;
}
