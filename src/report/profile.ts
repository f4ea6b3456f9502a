// `--profile`: each check's evaluation time over the whole inventory, slowest first, so slow
// checks can be found. Rendered from result.checks[].durationMs.
import type { ScanResult } from '../scan/result.js';
import { terminalSafe } from './sanitize.js';

export function renderProfile(result: ScanResult, top = Infinity): string {
  const timed = result.checks.filter((check) => check.durationMs !== undefined).sort((a, b) => b.durationMs! - a.durationMs! || a.id.localeCompare(b.id));
  const total = timed.reduce((sum, check) => sum + check.durationMs!, 0);
  const lines = [`Check evaluation time (${timed.length} checks, ${total.toFixed(1)} ms in all):`];
  const width = Math.max(2, ...timed.map((check) => check.id.length));
  for (const check of timed.slice(0, top)) {
    const perObject = check.evaluated ? ` ${((check.durationMs! * 1000) / check.evaluated).toFixed(1).padStart(8)} µs/object` : '';
    lines.push(`  ${terminalSafe(check.id).padEnd(width)} ${check.durationMs!.toFixed(2).padStart(9)} ms ${String(check.evaluated).padStart(7)} objects${perObject}  ${terminalSafe(check.title)}`);
  }
  return lines.join('\n') + '\n';
}
