import { Flags } from '@oclif/core';
import { KscanCommand } from '../../cli/base.js';
import { loadForCli } from '../../cli/checks.js';
import { snapshotAudit } from '../../audit/snapshot.js';
import { loadRbacInput, rbacInputFlags, reportProblems } from '../../rbac/input.js';
import { rbacOverview } from '../../rbac/overview.js';
import { rbacReportSection } from '../../rbac/report.js';
import { renderSectionsText } from '../../report/sections-text.js';
import { InputFailure } from '../../util/errors.js';

export default class Rbac extends KscanCommand {
  static override summary = 'RBAC: effective permissions, risky subjects, who-can, least privilege from audit logs.';
  static override description =
    'Without a subcommand: subjects ranked by power (risky permissions weighted by severity, doubled when the audit log shows them used), the binding → role → rule path to each risky permission, and privileged workloads running as powerful service accounts. Subcommands answer who-can questions, show one subject\'s effective permissions, and generate least-privilege roles from audit logs.';
  static override examples = [
    '<%= config.bin %> rbac --snapshot fixtures/demo',
    '<%= config.bin %> rbac --snapshot fixtures/demo --json --top 50',
    '<%= config.bin %> rbac --context prod --audit /var/log/kubernetes/audit/',
  ];
  static override flags = {
    ...rbacInputFlags,
    audit: Flags.string({ description: 'Audit log files or directories, to mark which risky permissions were used (repeatable; a snapshot\'s audit/ is read automatically).', multiple: true }),
    top: Flags.integer({ description: 'Subjects shown.', default: 20, min: 1 }),
    'checks-dir': Flags.string({ description: 'Directory of custom checks to load as well as the built-in ones (repeatable).', multiple: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Rbac);
    const input = await loadRbacInput(flags);
    const { checks, loadErrors } = await loadForCli(flags['checks-dir'] ?? []);
    if (loadErrors.length) throw new InputFailure(loadErrors[0]!);
    const fromSnapshot = flags.snapshot ? await snapshotAudit(flags.snapshot) : undefined;
    try {
      const audit = [...(flags.audit ?? []), ...(fromSnapshot?.dir ? [fromSnapshot.dir] : [])];
      const overview = await rbacOverview(input.collection.objects, checks, audit);
      reportProblems([...input.problems, ...(overview.audit?.problems ?? [])]);
      const report = { ...overview.report, subjects: overview.report.subjects.slice(0, flags.top) };
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(renderSectionsText([rbacReportSection(report, flags.top)], (_code, text) => text, flags.top).join('\n') + '\n');
    } finally {
      await fromSnapshot?.cleanup();
    }
  }
}
