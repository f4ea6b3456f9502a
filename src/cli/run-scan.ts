// The part of `kscan cluster` and `kscan manifests` that is the same: scan, report, exit code.
import type { Collection } from '../model/types.js';
import type { Locator } from '../checks/engine.js';
import { scan } from '../scan/scan.js';
import type { ScanTarget } from '../scan/result.js';
import { exitCode, writeReport } from './output.js';

export interface ScanFlagValues {
  format: string;
  output?: string;
  framework?: string[];
  'fail-on': string;
  'checks-dir'?: string[];
}

export async function scanAndReport(collection: Collection, target: ScanTarget, flags: ScanFlagValues, locator?: Locator, startedAt?: Date): Promise<number> {
  const result = await scan(collection, { target, frameworks: flags.framework, checksDirs: flags['checks-dir'], locator, startedAt });
  await writeReport(result, flags.format, flags.output);
  if (flags.output || flags.format !== 'text') {
    // Problems go to stderr too when stdout carries a machine-readable report or nothing.
    for (const problem of [...result.coverage.errors, ...result.errors]) {
      process.stderr.write(`kscan: ${problem.source}${problem.line ? `:${problem.line}` : ''}: ${problem.message}\n`);
    }
  }
  return exitCode(result, flags['fail-on']);
}
