// Renders a result in the chosen format, writes it, and turns findings into the exit code.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Finding, Severity } from '../model/types.js';
import { SEVERITY_RANK } from '../model/types.js';
import type { ScanResult } from '../scan/result.js';
import { FORMATS } from '../report/formats.js';
import { renderText } from '../report/text.js';
import { EXIT } from './exit.js';
import { writeStdout } from './stdout.js';
import { InputFailure } from '../util/errors.js';

/** Parses --format: a comma-separated list of registered formats. */
export function parseFormats(value: string): string[] {
  const formats = [...new Set(value.split(',').map((f) => f.trim().toLowerCase()).filter(Boolean))];
  const unknown = formats.filter((f) => !FORMATS[f]);
  if (unknown.length || !formats.length) throw new InputFailure(`unknown format ${unknown.join(', ') || '(none)'}; choose from ${Object.keys(FORMATS).join(', ')}`);
  return formats;
}

/** File name stem for --output-dir: kscan-<target>, safe on every file system. */
export function reportStem(result: ScanResult): string {
  const name = result.scan.target.type === 'manifests' ? 'manifests' : result.scan.target.name;
  return `kscan-${name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'scan'}`;
}

async function writeFileIn(file: string, text: string | Uint8Array): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, text);
}

/**
 * One format: to --output or standard output. --output-dir: every format to its own file, and the
 * text summary on standard output. Returns the files written.
 */
export async function writeReports(result: ScanResult, formats: string[], output?: string, outputDir?: string): Promise<string[]> {
  const colorTerminal = process.stdout.isTTY === true && !process.env.NO_COLOR;
  if (outputDir) {
    const written: string[] = [];
    for (const format of formats) {
      const file = path.join(outputDir, `${reportStem(result)}.${FORMATS[format].extension}`);
      await writeFileIn(file, await FORMATS[format].render(result, { color: false }));
      written.push(file);
    }
    await writeStdout(renderText(result, { color: colorTerminal }));
    return written;
  }
  if (formats.length > 1) throw new InputFailure('several formats need --output-dir');
  const [format] = formats;
  if (output) {
    await writeFileIn(output, await FORMATS[format].render(result, { color: false }));
    return [output];
  }
  if (format === 'pdf' && process.stdout.isTTY) throw new InputFailure('a PDF is binary: write it with --output or --output-dir');
  await writeStdout(await FORMATS[format].render(result, { color: format === 'text' && colorTerminal }));
  return [];
}

/** The findings the gate looks at: with a baseline, only what this change introduced. */
export function gatedFindings(result: ScanResult): Finding[] {
  const fresh = result.baseline ? new Set(result.baseline.newFingerprints) : undefined;
  return fresh ? result.findings.filter((finding) => fresh.has(finding.fingerprint)) : result.findings;
}

/** The gated findings at or above --fail-on (none for `none`). */
export function failingFindings(result: ScanResult, failOn: string): Finding[] {
  if (failOn === 'none') return [];
  const threshold = SEVERITY_RANK[failOn as Severity];
  return gatedFindings(result).filter((finding) => SEVERITY_RANK[finding.severity] >= threshold);
}

/** 2 when nothing usable was read or a check failed to load, 1 when a (new, with --baseline) finding reaches --fail-on, else 0. */
export function exitCode(result: ScanResult, failOn: string): number {
  if (result.summary.objects === 0 && result.coverage.errors.length > 0) return EXIT.usage;
  if (result.errors.some((error) => error.stage === 'load')) return EXIT.usage;
  return failingFindings(result, failOn).length ? EXIT.findings : EXIT.clean;
}
