/** The directory to pass node-gyp as --nodedir: the first whose include/node is this Node's version. */
export function findNodeDir(execPath?: string, version?: string, read?: (path: string, encoding: 'utf8') => string): string | null;
