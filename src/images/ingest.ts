// Reads existing scan results: a directory (recursively) or a file of trivy JSON / CycloneDX
// SBOMs, so air-gapped audits and CI pipelines that already ran trivy reuse them. A bad file is
// one input error naming it; every other file is still read.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { InputError } from '../model/types.js';
import { errorMessage, InputFailure } from '../util/errors.js';
import { parseImageReport, ReportFormatError, type ImageReport } from './report.js';

export interface IngestResult {
  reports: ImageReport[];
  errors: InputError[];
}

const RESULT_FILE = /\.(json|cdx)$/i;

/** Parses one file's text; the error message says whether it was truncated, foreign or malformed. */
export function parseReportText(text: string, source: string): ImageReport {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const truncated = /end of (JSON )?input|Unterminated/i.test(errorMessage(error));
    throw new ReportFormatError(`${truncated ? 'truncated JSON' : 'invalid JSON'} (${errorMessage(error)})`);
  }
  return parseImageReport(document, source);
}

export function ingestTexts(files: { file: string; content: string }[], into: IngestResult = { reports: [], errors: [] }): IngestResult {
  for (const { file, content } of files) {
    try {
      into.reports.push(parseReportText(content, file));
    } catch (error) {
      if (!(error instanceof ReportFormatError)) throw error;
      into.errors.push({ source: file, message: error.message, stage: 'collect' });
    }
  }
  return into;
}

async function resultFiles(location: string): Promise<string[]> {
  const info = await stat(location).catch(() => {
    throw new InputFailure(`image results not found: ${location}`);
  });
  if (!info.isDirectory()) return [location];
  const entries = await readdir(location, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && RESULT_FILE.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

export async function ingestImageResults(locations: string[]): Promise<IngestResult> {
  const result: IngestResult = { reports: [], errors: [] };
  for (const location of locations) {
    for (const file of await resultFiles(location)) {
      let content: string;
      try {
        content = await readFile(file, 'utf8');
      } catch (error) {
        result.errors.push({ source: file, message: `cannot read: ${errorMessage(error)}`, stage: 'collect' });
        continue;
      }
      ingestTexts([{ file, content }], result);
    }
  }
  return result;
}
