import { writeStdout } from '../../cli/stdout.js';
import { Args, Flags } from '@oclif/core';
import { KscanCommand, EXIT } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { loadForCli } from '../../cli/checks.js';
import { getFramework } from '../../checks/frameworks.js';
import { frameworkMapping, type ControlMapping } from '../../score/catalogue.js';

export default class FrameworksShow extends KscanCommand {
  static override summary = 'Show a framework\'s controls with titles and the checks that decide each, or what to check by hand.';
  static override examples = ['<%= config.bin %> frameworks show cis', '<%= config.bin %> frameworks show pss-restricted --json'];
  static override args = { id: Args.string({ description: 'Framework id: cis, pss-baseline, pss-restricted, nsa, mitre.', required: true }) };
  static override flags = {
    'checks-dir': scanFlags['checks-dir'],
    json: Flags.boolean({ description: 'Print the framework and its mapping as JSON.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(FrameworksShow);
    const framework = getFramework(args.id);
    const { checks, loadErrors } = await loadForCli(flags['checks-dir']);
    const mapping = frameworkMapping(framework, checks);
    if (flags.json) {
      await writeStdout(JSON.stringify(mapping, null, 2) + '\n');
    } else {
      const out = [`${mapping.title} ${mapping.version} (${mapping.id}): ${mapping.controls.length} controls, ${mapping.mapped} decided by checks`];
      if (mapping.url) out.push(mapping.url);
      for (const entry of mapping.versionMapping) out.push(`  Kubernetes ${entry.kubernetes} → ${entry.version}${entry.note ? ` (${entry.note})` : ''}`);
      for (const section of mapping.sections) {
        out.push('', `${section.id}  ${section.title}`);
        for (const control of mapping.controls.filter((c) => c.section === section.id)) out.push(...describeControl(control));
      }
      await writeStdout(out.join('\n') + '\n');
    }
    for (const error of loadErrors) process.stderr.write(`kscan: ${error}\n`);
    if (loadErrors.length) this.exit(EXIT.usage);
  }
}

function describeControl(control: ControlMapping): string[] {
  const tags = [control.level, control.automated === undefined ? undefined : control.automated ? 'Automated' : 'Manual', control.scope].filter(Boolean).join(', ');
  const lines = [`  ${control.id}  ${control.title} [${tags}]`];
  lines.push(control.checks.length ? `      decided by: ${control.checks.join(', ')}` : `      manual: ${control.audit ?? 'review by hand'}`);
  return lines;
}
