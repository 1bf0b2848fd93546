export async function main(argv: string[]): Promise<void> {
  process.stdout.write(`tstop: ${argv.join(' ')}\n`);
}
