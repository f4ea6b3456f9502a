import { writeStdout } from '../../cli/stdout.js';
import { Flags } from '@oclif/core';
import { KscanCommand, EXIT } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { loadForCli } from '../../cli/checks.js';
import type { Check } from '../../checks/loader.js';
import { controlsInFramework, getFramework, resolveFrameworks } from '../../checks/frameworks.js';

export default class ChecksList extends KscanCommand {
  static override summary = 'List the checks: id, severity, category, title and framework controls.';
  static override examples = ['<%= config.bin %> checks list', '<%= config.bin %> checks list --framework pss-restricted', '<%= config.bin %> checks list --json'];
  static override flags = {
    framework: scanFlags.framework,
    'checks-dir': scanFlags['checks-dir'],
    json: Flags.boolean({ description: 'Print the checks as JSON.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ChecksList);
    const { checks, loadErrors } = await loadForCli(flags['checks-dir'], flags.framework);
    if (flags.json) {
      await writeStdout(JSON.stringify(checks.map(({ compiled: _c, fixtures: _f, ...check }) => check), null, 2) + '\n');
    } else {
      // With --framework, the last column is that framework's control ids; otherwise every mapping.
      const selected = resolveFrameworks(flags.framework ?? []).map(getFramework);
      const controlColumn = (c: Check) =>
        selected.length
          ? selected.map((framework) => [framework.id, controlsInFramework(c.controls, framework)] as const).filter(([, ids]) => ids.length).map(([id, ids]) => `${id}:${ids.join(',')}`).join(' ')
          : Object.entries(c.controls).map(([f, ids]) => `${f}:${ids.join(',')}`).join(' ');
      const rows = checks.map((c) => [c.id, c.severity, c.category, c.title, controlColumn(c)]);
      const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 2));
      for (const row of rows) process.stdout.write(row.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]) : cell)).join('  ').trimEnd() + '\n');
      process.stdout.write(`${checks.length} checks\n`);
    }
    for (const error of loadErrors) process.stderr.write(`kscan: ${error}\n`);
    if (loadErrors.length) this.exit(EXIT.usage);
  }
}
