// Runs trivy through execa with an argument array (never a shell), a timeout, bounded concurrency
// and one scan per image digest. A failure is a per-image reason ("trivy not found at …", "timed
// out after 120 s", the exit code with the last error line) and the other images are still scanned.
import { execa, type ExecaError } from 'execa';
import { errorMessage } from '../util/errors.js';
import { ReportFormatError } from './report.js';
import type { ImageReport } from './report.js';
import { parseReportText } from './ingest.js';

export interface TrivyOptions {
  /** Path to the trivy binary, or a name looked up on PATH. */
  binary?: string;
  timeoutMs?: number;
  concurrency?: number;
  /** trivy --scanners; vuln by default. */
  scanners?: string[];
  offlineScan?: boolean;
  skipDbUpdate?: boolean;
  skipJavaDbUpdate?: boolean;
  cacheDir?: string;
  /** Extra environment, e.g. TRIVY_USERNAME for a private registry. */
  env?: Record<string, string>;
}

export interface TrivyTarget {
  /** Cache key: the manifest digest when known, so an image is scanned once whatever workloads use it. */
  key: string;
  /** What trivy pulls: repo@sha256:… or repo:tag. */
  image?: string;
  /** A local image archive (docker save / OCI) instead of a registry pull. */
  input?: string;
}

export interface TrivyOutcome {
  target: TrivyTarget;
  report?: ImageReport;
  error?: string;
}

export const DEFAULT_TRIVY_TIMEOUT_MS = 300_000;

/** The argument list for one image; exported so tests can assert exactly what trivy receives. */
export function trivyArgs(target: TrivyTarget, options: TrivyOptions): string[] {
  const args = ['image', '--format', 'json', '--quiet', '--list-all-pkgs', '--scanners', (options.scanners ?? ['vuln']).join(',')];
  if (options.offlineScan) args.push('--offline-scan');
  if (options.skipDbUpdate) args.push('--skip-db-update');
  if (options.skipJavaDbUpdate) args.push('--skip-java-db-update');
  if (options.cacheDir) args.push('--cache-dir', options.cacheDir);
  if (target.input) args.push('--input', target.input);
  else if (target.image) {
    // "--" ends the options: an image reference from the cluster can never be read as a flag.
    args.push('--', target.image);
  }
  return args;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The line of trivy's stderr that says what went wrong: the last FATAL/ERROR line, else the last line. */
export function stderrSummary(stderr: string): string {
  const lines = stderr.replace(ANSI, '').split('\n').map((l) => l.trim()).filter(Boolean);
  const line = [...lines].reverse().find((l) => /\b(FATAL|ERROR)\b/.test(l)) ?? lines[lines.length - 1] ?? '';
  // Drop the timestamp and level columns trivy prefixes.
  const text = line.replace(/^\S+\s+(FATAL|ERROR|WARN|INFO)\s+/, '');
  return text.length > 300 ? text.slice(0, 297) + '...' : text;
}

async function scanOne(target: TrivyTarget, options: TrivyOptions): Promise<TrivyOutcome> {
  const binary = options.binary ?? 'trivy';
  const timeout = options.timeoutMs ?? DEFAULT_TRIVY_TIMEOUT_MS;
  const label = target.input ?? target.image ?? target.key;
  try {
    const run = await execa(binary, trivyArgs(target, options), {
      timeout,
      forceKillAfterDelay: 2000,
      maxBuffer: 1024 * 1024 * 1024,
      stdin: 'ignore',
      env: options.env,
      stripFinalNewline: false,
    });
    try {
      return { target, report: parseReportText(run.stdout, `trivy ${label}`) };
    } catch (error) {
      if (error instanceof ReportFormatError) return { target, error: `trivy printed no usable report: ${error.message}` };
      throw error;
    }
  } catch (error) {
    const e = error as ExecaError & { code?: string };
    if (e.code === 'ENOENT') return { target, error: `trivy not found at ${binary}` };
    if (e.code === 'EACCES') return { target, error: `trivy at ${binary} is not executable` };
    if (e.timedOut) return { target, error: `trivy timed out after ${Math.round(timeout / 1000)} s` };
    if (typeof e.exitCode === 'number') {
      const summary = stderrSummary(String(e.stderr ?? ''));
      return { target, error: `trivy exited with code ${e.exitCode}${summary ? `: ${summary}` : ' and printed no error'}` };
    }
    if (e.signal) return { target, error: `trivy was killed by ${e.signal}` };
    return { target, error: `trivy failed: ${errorMessage(error)}` };
  }
}

/**
 * Scans every target once (by key), at most `concurrency` at a time, in the order given. Results
 * come back in the same order; `onDone` reports progress.
 */
export async function runTrivy(targets: TrivyTarget[], options: TrivyOptions = {}, onDone?: (done: number, total: number) => void): Promise<TrivyOutcome[]> {
  const unique = new Map<string, TrivyTarget>();
  for (const target of targets) if (!unique.has(target.key)) unique.set(target.key, target);
  const queue = [...unique.values()];
  const outcomes = new Map<string, TrivyOutcome>();
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const target = queue[next++];
      outcomes.set(target.key, await scanOne(target, options));
      onDone?.(outcomes.size, queue.length);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, queue.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return targets.map((target) => ({ ...outcomes.get(target.key)!, target }));
}
