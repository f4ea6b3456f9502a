import { Args, Flags } from '@oclif/core';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KscanCommand, EXIT } from '../../cli/base.js';
import { learnBaseline } from '../../audit/learn.js';
import { InputFailure } from '../../util/errors.js';

export default class AuditBaseline extends KscanCommand {
  static override summary = 'Learn per-principal behaviour from audit logs, for `kscan audit --audit-baseline`.';
  static override description =
    'Reads audit logs of a learning period (files, directories, - for standard input) and writes a profile: for every principal the actions (verb and resource), namespaces, source IPs, clients (user-agent product) and hours of the day it was active, plus the period\'s totals. `kscan audit <later logs> --audit-baseline <profile>` then reports what a principal never did before and compares rates with this period.';
  static override examples = ['<%= config.bin %> audit baseline --learn fixtures/demo/audit --out profile.json', '<%= config.bin %> audit baseline --learn last-week/ --learn more.log.gz --out profile.json'];
  static override strict = false;
  static override args = { paths: Args.string({ description: 'More audit logs to learn from (same as --learn).' }) };
  static override flags = {
    learn: Flags.string({ description: 'Audit log file or directory of the learning period, - for standard input (repeatable).', multiple: true }),
    out: Flags.string({ description: 'Profile file to write (JSON).', required: true }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(AuditBaseline);
    const inputs = [...(flags.learn ?? []), ...(argv as string[])];
    if (!inputs.length) throw new InputFailure('give the audit logs to learn from with --learn');
    const { profile, stats } = await learnBaseline(inputs);
    for (const problem of stats.problems) process.stderr.write(`kscan: ${problem.source}${problem.line ? `:${problem.line}` : ''}: ${problem.message}\n`);
    if (stats.problemCount > stats.problems.length) process.stderr.write(`kscan: ${stats.problemCount - stats.problems.length} more input problems not shown\n`);
    if (profile.learnedFrom.events === 0) throw new InputFailure(`no audit events read from ${inputs.join(', ')}`);
    await mkdir(path.dirname(path.resolve(flags.out)), { recursive: true });
    await writeFile(flags.out, JSON.stringify(profile, null, 2) + '\n');
    process.stderr.write(`kscan: learned ${Object.keys(profile.principals).length} principals from ${profile.learnedFrom.events} requests (${profile.learnedFrom.from} to ${profile.learnedFrom.to}); wrote ${flags.out}\n`);
    if (stats.problemCount) this.exit(EXIT.usage);
  }
}
