import { readFile } from 'node:fs/promises';
import { Args, Flags } from '@oclif/core';
import { KscanCommand } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { parseFormats, writeReports } from '../../cli/output.js';
import { readResultFile } from '../../report/load.js';
import { FORMATS } from '../../report/formats.js';
import { resolveHistoryFile, trendFromHistory } from '../../history/store.js';
import { InputFailure, errorMessage } from '../../util/errors.js';
import type { ScanResult } from '../../scan/result.js';

export default class Report extends KscanCommand {
  static override summary = 'Render a saved scan result (kscan ... --format json) in other formats, without scanning again.';
  static override description =
    'Reads a result written by `--format json` (or - for standard input), checks that it is a kscan result of a supported schema version, and writes the chosen formats: json, sarif, html, pdf, junit (.xml), md, text. With --history it adds the trend against the scan recorded before it.';
  static override examples = [
    '<%= config.bin %> report result.json --format html,pdf --output-dir reports/',
    '<%= config.bin %> report result.json --format sarif --output kscan.sarif',
    '<%= config.bin %> report result.json --format md >> "$GITHUB_STEP_SUMMARY"',
  ];
  static override args = { result: Args.string({ description: 'A kscan result JSON file, or - for standard input.', required: true }) };
  static override flags = {
    format: Flags.string({ char: 'f', description: `Report formats, comma-separated (${Object.keys(FORMATS).join(', ')}).`, default: 'html' }),
    output: scanFlags.output,
    'output-dir': scanFlags['output-dir'],
    history: Flags.string({ description: 'SQLite scan history (as written by --history) to show the trend from; the result is not recorded again. "default" is <user data dir>/kscan/history.sqlite.', env: 'KSCAN_HISTORY' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Report);
    const formats = parseFormats(flags.format);
    const result = await readResultArg(args.result);
    if (flags.history) result.history = trendFromHistory(resolveHistoryFile(flags.history), result);
    const written = await writeReports(result, formats, flags.output, flags['output-dir']);
    for (const file of written) process.stderr.write(`kscan: wrote ${file}\n`);
  }
}

/** A result file named on the command line, or - for standard input; one clear error otherwise. */
export async function readResultArg(file: string): Promise<ScanResult> {
  const name = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new InputFailure(`${name}: cannot read: ${errorMessage(error)}`);
  }
  return readResultFile(text, name);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
