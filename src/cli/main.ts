// Placeholder entry point; the config helper replaces it with keepalived's full CLI.
export async function main(argv: string[]): Promise<void> {
  console.error(`keepalived-ts: not implemented yet (${argv.join(' ')})`);
  process.exitCode = 1;
}
