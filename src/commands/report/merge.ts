import { Args, Flags } from '@oclif/core';
import { KscanCommand } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { exitCode, parseFormats, writeReports } from '../../cli/output.js';
import { mergeResults } from '../../scan/merge.js';
import { InputFailure } from '../../util/errors.js';
import { readResultArg } from './index.js';

export default class ReportMerge extends KscanCommand {
  static override summary = 'Merge the results of several clusters (e.g. each cluster\'s CronJob) into one report with a per-cluster comparison.';
  static override description =
    'Reads kscan results (--format json) of different clusters and writes one report: every finding keeps its cluster, a control fails when it fails in any cluster, and a Clusters section compares findings and scores side by side.';
  static override examples = [
    '<%= config.bin %> report merge prod-eu.json prod-us.json staging.json --format html,pdf --output-dir fleet-report/',
    '<%= config.bin %> report merge reports/*.json --format json --output fleet.json --fail-on critical',
  ];
  static override strict = false;
  static override args = { results: Args.string({ description: 'Two or more kscan result JSON files.', required: true }) };
  static override flags = {
    format: Flags.string({ char: 'f', description: 'Report formats, comma-separated.', default: 'text' }),
    output: scanFlags.output,
    'output-dir': scanFlags['output-dir'],
    'fail-on': scanFlags['fail-on'],
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ReportMerge);
    const files = argv as string[];
    if (files.length < 2) throw new InputFailure('give two or more result files to merge');
    const formats = parseFormats(flags.format);
    const merged = mergeResults(await Promise.all(files.map(readResultArg)));
    const written = await writeReports(merged, formats, flags.output, flags['output-dir']);
    for (const file of written) process.stderr.write(`kscan: wrote ${file}\n`);
    this.exit(exitCode(merged, flags['fail-on']));
  }
}
