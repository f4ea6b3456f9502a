import { Args } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { KscanCommand } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { loadForCli } from '../../cli/checks.js';
import { InputFailure } from '../../util/errors.js';

export default class ChecksShow extends KscanCommand {
  static override summary = 'Show one check: its definition, as written, and where it lives.';
  static override examples = ['<%= config.bin %> checks show KS-WL-001'];
  static override args = { id: Args.string({ description: 'Check id, e.g. KS-WL-001.', required: true }) };
  static override flags = { 'checks-dir': scanFlags['checks-dir'] };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ChecksShow);
    const { checks } = await loadForCli(flags['checks-dir']);
    const check = checks.find((c) => c.id.toLowerCase() === args.id.toLowerCase());
    if (!check) throw new InputFailure(`no check with id ${args.id}; see kscan checks list`);
    process.stdout.write(`# ${check.file}\n${await readFile(check.file, 'utf8')}`);
    process.stdout.write(`# fixtures: ${check.fixtures.pass ?? '(no pass fixture)'}, ${check.fixtures.fail ?? '(no fail fixture)'}\n`);
  }
}
