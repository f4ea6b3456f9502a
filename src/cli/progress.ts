// Progress for long-running collection: a single rewritten line on a TTY, silent in CI and JSON mode.
export function collectionProgress(enabled: boolean): ((event: { kind: string; done: number; total: number }) => void) | undefined {
  if (!enabled || !process.stderr.isTTY || process.env.CI) return undefined;
  return ({ kind, done, total }) => {
    process.stderr.write(`\r\u001b[Kcollecting ${done}/${total} kinds (${kind})`);
    if (done === total) process.stderr.write('\r\u001b[K');
  };
}
