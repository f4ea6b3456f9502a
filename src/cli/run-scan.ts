// The part of `kscan cluster` and `kscan manifests` that is the same: scan, report, exit code.
import type { Collection } from '../model/types.js';
import type { Locator } from '../checks/engine.js';
import { scan, type ScanExtension } from '../scan/scan.js';
import type { ScanResult, ScanTarget } from '../scan/result.js';
import { exitCode, parseFormats, writeReports } from './output.js';
import { complianceExtension } from '../score/compliance.js';
import { renderProfile } from '../report/profile.js';
import { readFile } from 'node:fs/promises';
import type { LoadedConfig } from '../config/config.js';
import { exceptionsExtension, loadExceptionPacks } from '../exceptions/exceptions.js';
import { diffFindings, findingRecord } from '../findings/diff.js';
import { readResultFile } from '../report/load.js';
import { InputFailure } from '../util/errors.js';
import { terminalSafe } from '../report/sanitize.js';

export interface ScanFlagValues {
  format: string;
  output?: string;
  'output-dir'?: string;
  framework?: string[];
  'fail-on': string;
  'checks-dir'?: string[];
  profile?: boolean;
  history?: string;
  baseline?: string;
  'default-exceptions'?: boolean;
}

export interface ScanRunOptions {
  locator?: Locator;
  startedAt?: Date;
  extensions?: ScanExtension[];
  /** The config file, when one was read (src/config): severity overrides, exceptions, warnings. */
  config?: LoadedConfig;
  /** From prepareReport, called before collecting; scanAndWrite calls it otherwise. */
  plan?: ReportPlan;
}

/** What the report flags ask for, checked before any collection: a bad --format or --baseline fails at once. */
export interface ReportPlan {
  formats: ReturnType<typeof parseFormats>;
  baseline?: ScanResult;
}

export async function prepareReport(flags: ScanFlagValues): Promise<ReportPlan> {
  const formats = parseFormats(flags.format);
  if (!flags.baseline) return { formats };
  const text = await readFile(flags.baseline, 'utf8').catch(() => {
    throw new InputFailure(`baseline not found: ${flags.baseline}`);
  });
  return { formats, baseline: readResultFile(text, flags.baseline) };
}

export interface ScanOutcome {
  result: ScanResult;
  /** Report files written. */
  written: string[];
  /** 0 clean, 1 a (new, with a baseline) finding at --fail-on, 2 nothing usable read or a check did not load. */
  code: number;
}

export async function scanAndReport(collection: Collection, target: ScanTarget, flags: ScanFlagValues, options: ScanRunOptions = {}): Promise<number> {
  return (await scanAndWrite(collection, target, flags, options)).code;
}

/** Scan, write the reports, and say what came of it (the GitHub Action reads the result too). */
export async function scanAndWrite(collection: Collection, target: ScanTarget, flags: ScanFlagValues, options: ScanRunOptions = {}): Promise<ScanOutcome> {
  const plan = options.plan ?? (await prepareReport(flags));
  return reportResult(await scanOnly(collection, target, flags, options), flags, plan);
}

/** The scan with everything that decides its findings (exceptions, severity overrides, compliance), without writing. */
export async function scanOnly(collection: Collection, target: ScanTarget, flags: ScanFlagValues, options: ScanRunOptions = {}): Promise<ScanResult> {
  const config = options.config?.config;
  // Exceptions apply once every other stage has added its findings; compliance scoring always runs
  // last (with no --framework it scores every framework), so suppressed findings fail no control.
  const packs = flags['default-exceptions'] === false ? [] : await loadExceptionPacks();
  const extensions = [...(options.extensions ?? []), exceptionsExtension({ rules: config?.exceptions ?? [], packs }), complianceExtension()];
  const result = await scan(collection, { target, frameworks: flags.framework, checksDirs: flags['checks-dir'], ...options, extensions, profile: flags.profile, severityOverrides: config?.severity });
  result.errors.unshift(...(options.config?.warnings ?? []));
  return result;
}

/** Baseline, profile, history, the reports and the exit code for a finished result (one cluster's, or several merged). */
export async function reportResult(result: ScanResult, flags: ScanFlagValues, plan: ReportPlan): Promise<ScanOutcome> {
  const { formats, baseline } = plan;
  if (baseline && flags.baseline) {
    result.baseline = { file: flags.baseline, scannedAt: baseline.scan.startedAt, ...diffFindings(baseline.findings.map(findingRecord), result.findings) };
  }
  // Timings go to standard error so they never mix with a report on standard output.
  if (flags.profile) process.stderr.write(renderProfile(result));
  // Recorded after the scan is complete, so the trend compares final findings and scores.
  if (flags.history) {
    // SQLite is a native module: loaded only when history is asked for (the Action bundle has none).
    const { recordScan, resolveHistoryFile } = await import('../history/store.js');
    result.history = recordScan(resolveHistoryFile(flags.history), result);
  }
  const written = await writeReports(result, formats, flags.output, flags['output-dir']);
  for (const file of written) process.stderr.write(`kscan: wrote ${file}\n`);
  const summaryOnStdout = Boolean(flags['output-dir']) || (!flags.output && formats[0] === 'text');
  if (!summaryOnStdout) {
    // Input problems must not go unseen when standard output carries no summary.
    for (const problem of [...result.coverage.errors, ...result.errors]) {
      process.stderr.write(terminalSafe(`kscan: ${problem.source}${problem.line ? `:${problem.line}` : ''}: ${problem.message}`) + '\n');
    }
  }
  return { result, written, code: exitCode(result, flags['fail-on']) };
}
