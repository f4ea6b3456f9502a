import { writeStdout } from '../../cli/stdout.js';
import { Flags } from '@oclif/core';
import { KscanCommand, EXIT } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { loadForCli } from '../../cli/checks.js';
import { loadFrameworks } from '../../checks/frameworks.js';
import { frameworkMapping } from '../../score/catalogue.js';

export default class FrameworksList extends KscanCommand {
  static override summary = 'List the compliance frameworks: id, title, version, and how many controls checks decide.';
  static override examples = ['<%= config.bin %> frameworks list', '<%= config.bin %> frameworks list --json'];
  static override flags = {
    'checks-dir': scanFlags['checks-dir'],
    json: Flags.boolean({ description: 'Print the frameworks as JSON.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(FrameworksList);
    const { checks, loadErrors } = await loadForCli(flags['checks-dir']);
    const mappings = [...loadFrameworks().values()].map((framework) => frameworkMapping(framework, checks));
    if (flags.json) {
      await writeStdout(JSON.stringify(mappings.map(({ controls, sections, ...rest }) => ({ ...rest, sections: sections.length, controls: controls.length })), null, 2) + '\n');
    } else {
      const rows = mappings.map((m) => [m.id, `${m.title} ${m.version}`, `${m.controls.length} controls`, `${m.mapped} decided by checks, ${m.controls.length - m.mapped} manual`]);
      const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i].length)));
      for (const row of rows) process.stdout.write(row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  ') + '\n');
      process.stdout.write(`${mappings.length} frameworks; kscan frameworks show <id> lists the controls\n`);
    }
    for (const error of loadErrors) process.stderr.write(`kscan: ${error}\n`);
    if (loadErrors.length) this.exit(EXIT.usage);
  }
}
