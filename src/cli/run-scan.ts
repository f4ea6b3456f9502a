// The part of `kscan cluster` and `kscan manifests` that is the same: scan, report, exit code.
import type { Collection } from '../model/types.js';
import type { Locator } from '../checks/engine.js';
import { scan, type ScanExtension } from '../scan/scan.js';
import type { ScanTarget } from '../scan/result.js';
import { exitCode, parseFormats, writeReports } from './output.js';
import { complianceExtension } from '../score/compliance.js';
import { renderProfile } from '../report/profile.js';
import { recordScan, resolveHistoryFile } from '../history/store.js';

export interface ScanFlagValues {
  format: string;
  output?: string;
  'output-dir'?: string;
  framework?: string[];
  'fail-on': string;
  'checks-dir'?: string[];
  profile?: boolean;
  history?: string;
}

export interface ScanRunOptions {
  locator?: Locator;
  startedAt?: Date;
  extensions?: ScanExtension[];
}

export async function scanAndReport(collection: Collection, target: ScanTarget, flags: ScanFlagValues, options: ScanRunOptions = {}): Promise<number> {
  const formats = parseFormats(flags.format);
  // Compliance scoring always runs (last): with no --framework it scores every framework.
  const extensions = [...(options.extensions ?? []), complianceExtension()];
  const result = await scan(collection, { target, frameworks: flags.framework, checksDirs: flags['checks-dir'], ...options, extensions, profile: flags.profile });
  // Timings go to standard error so they never mix with a report on standard output.
  if (flags.profile) process.stderr.write(renderProfile(result));
  // Recorded after the scan is complete, so the trend compares final findings and scores.
  if (flags.history) result.history = recordScan(resolveHistoryFile(flags.history), result);
  const written = await writeReports(result, formats, flags.output, flags['output-dir']);
  for (const file of written) process.stderr.write(`kscan: wrote ${file}\n`);
  const summaryOnStdout = Boolean(flags['output-dir']) || (!flags.output && formats[0] === 'text');
  if (!summaryOnStdout) {
    // Input problems must not go unseen when standard output carries no summary.
    for (const problem of [...result.coverage.errors, ...result.errors]) {
      process.stderr.write(`kscan: ${problem.source}${problem.line ? `:${problem.line}` : ''}: ${problem.message}\n`);
    }
  }
  return exitCode(result, flags['fail-on']);
}
