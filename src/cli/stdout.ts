// Writing a large report to a pipe (`kscan ... --format json | jq`) can outlast the write call;
// a command that exits right after would cut it off. Await this before exiting.
export function writeStdout(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}
