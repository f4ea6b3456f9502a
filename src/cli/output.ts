// Renders a result in the chosen format, writes it, and turns findings into the exit code.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Severity } from '../model/types.js';
import { SEVERITY_RANK } from '../model/types.js';
import type { ScanResult } from '../scan/result.js';
import { FORMATS } from '../report/formats.js';
import { EXIT } from './base.js';

export async function writeReport(result: ScanResult, format: string, output?: string): Promise<void> {
  const renderer = FORMATS[format];
  const color = !output && format === 'text' && process.stdout.isTTY === true && !process.env.NO_COLOR;
  const text = renderer.render(result, { color });
  if (output) {
    await mkdir(path.dirname(path.resolve(output)), { recursive: true });
    await writeFile(output, text);
  } else {
    process.stdout.write(text);
  }
}

/** 2 when nothing usable was read or a check failed to load, 1 when a finding reaches --fail-on, else 0. */
export function exitCode(result: ScanResult, failOn: string): number {
  if (result.summary.objects === 0 && result.coverage.errors.length > 0) return EXIT.usage;
  if (result.errors.some((error) => error.stage === 'load')) return EXIT.usage;
  if (failOn === 'none') return EXIT.clean;
  const threshold = SEVERITY_RANK[failOn as Severity];
  return result.findings.some((finding) => SEVERITY_RANK[finding.severity] >= threshold) ? EXIT.findings : EXIT.clean;
}
