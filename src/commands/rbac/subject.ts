import { Args, Flags } from '@oclif/core';
import { KscanCommand } from '../../cli/base.js';
import { loadForCli } from '../../cli/checks.js';
import { loadRbacInput, rbacInputFlags, reportProblems } from '../../rbac/input.js';
import { parseSubjectId } from '../../rbac/model.js';
import { renderSubject, subjectView } from '../../rbac/views.js';
import { InputFailure } from '../../util/errors.js';

export default class Subject extends KscanCommand {
  static override summary = 'Show the effective permissions of a user, group or service account, risky ones marked.';
  static override description =
    'Merges every rule the subject holds, directly and through its groups (system:serviceaccounts, system:authenticated, ...), into one readable list per scope (cluster-wide, then each namespace): resource, resourceNames, verbs, and the binding → role paths that grant them. Permissions the KS-RBAC risky-permission checks flag are marked with "!" and the check id.';
  static override examples = [
    '<%= config.bin %> rbac subject serviceaccount/ci-runners/gitlab-runner --snapshot fixtures/demo',
    '<%= config.bin %> rbac subject user/alice@example.com --snapshot fixtures/demo --json',
    '<%= config.bin %> rbac subject group/system:masters --context prod',
    '<%= config.bin %> rbac subject system:serviceaccount:monitoring:prometheus --snapshot fixtures/demo',
  ];
  static override args = {
    subject: Args.string({ description: 'serviceaccount/<namespace>/<name> (or sa/..., or system:serviceaccount:<ns>:<name>), user/<name> or group/<name>.', required: true }),
  };
  static override flags = {
    ...rbacInputFlags,
    'checks-dir': Flags.string({ description: 'Directory of custom checks to load as well as the built-in ones (repeatable).', multiple: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Subject);
    const subject = parseSubjectId(args.subject);
    if (!subject) throw new InputFailure(`unknown subject "${args.subject}": use serviceaccount/<namespace>/<name>, user/<name> or group/<name>`);
    const input = await loadRbacInput(flags);
    const { checks, loadErrors } = await loadForCli(flags['checks-dir'] ?? []);
    if (loadErrors.length) throw new InputFailure(loadErrors[0]!);
    const view = subjectView(input.analysis, subject, checks);
    reportProblems(input.problems);
    process.stdout.write(flags.json ? JSON.stringify(view, null, 2) + '\n' : renderSubject(view));
  }
}
