import { Flags } from '@oclif/core';
import { KscanCommand } from '../../cli/base.js';
import { readAuditLogs } from '../../audit/reader.js';
import { snapshotAudit } from '../../audit/snapshot.js';
import { isSystemSubject } from '../../rbac/analysis.js';
import { loadRbacInput, problemLine, rbacInputFlags, reportProblems } from '../../rbac/input.js';
import { planLeastPrivilege, renderPlan } from '../../rbac/least-privilege.js';
import { parseSubjectId, subjectId, subjectOfUsername, subjectUsername, type SubjectRef } from '../../rbac/model.js';
import { UsageLog } from '../../rbac/usage.js';
import { InputFailure } from '../../util/errors.js';

export default class LeastPrivilege extends KscanCommand {
  static override summary = 'Generate the minimal roles a subject needs from the audit log, and report what it holds but never used.';
  static override description =
    'Like audit2rbac: reads audit logs (files, .gz, directories, - for standard input; a snapshot\'s audit/ is read automatically) and writes the minimal Role/ClusterRole and RoleBinding/ClusterRoleBinding YAML covering every request the subject made and was allowed (verbs, resources with subresources, API groups, namespaces; resourceNames only for get/update/patch/delete on at most --max-names objects; non-resource URLs in a ClusterRole). Denied requests are listed but never granted. Then compares with what the subject holds: every granted rule it never used, or used only in part, and the reduced roles (a patch for kubectl apply) that remove the unused permissions; roles shared with other subjects or managed by aggregation are named instead of patched. Without --subject, every non-system service account that holds a grant or appears in the logs is planned.';
  static override examples = [
    '<%= config.bin %> rbac least-privilege --snapshot fixtures/demo --subject system:serviceaccount:ci-runners:gitlab-runner',
    '<%= config.bin %> rbac least-privilege --snapshot fixtures/demo --audit fixtures/demo/audit --subject serviceaccount/data-pipeline/spark --json',
    '<%= config.bin %> rbac least-privilege --context prod --audit /var/log/kubernetes/audit/ > least-privilege.yaml',
  ];
  static override flags = {
    ...rbacInputFlags,
    audit: Flags.string({ description: 'Audit log files or directories (repeatable; - for standard input). Optional with a snapshot that has audit/.', multiple: true }),
    subject: Flags.string({ description: 'Subject to plan: system:serviceaccount:<ns>:<name>, serviceaccount/<ns>/<name> or user/<name> (repeatable; default: every non-system service account).', multiple: true }),
    'max-names': Flags.integer({ description: 'Use resourceNames when a verb touched at most this many named objects (0: never).', default: 3, min: 0 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LeastPrivilege);
    const subjects: SubjectRef[] = [];
    for (const text of flags.subject ?? []) {
      const subject = parseSubjectId(text) ?? (text.includes('/') ? undefined : subjectOfUsername(text));
      if (!subject || subject.kind === 'Group') throw new InputFailure(`unknown subject "${text}": use system:serviceaccount:<ns>:<name>, serviceaccount/<ns>/<name> or user/<name> (groups make no requests)`);
      subjects.push(subject);
    }
    const input = await loadRbacInput(flags);
    const fromSnapshot = flags.snapshot ? await snapshotAudit(flags.snapshot) : undefined;
    try {
      const inputs = [...(flags.audit ?? []), ...(fromSnapshot?.dir && !flags.audit?.length ? [fromSnapshot.dir] : [])];
      if (!inputs.length) throw new InputFailure('give audit logs with --audit (or a snapshot with an audit/ directory)');
      const wanted = subjects.length ? new Set(subjects.map((s) => subjectUsername(s))) : undefined;
      const usage = new UsageLog(wanted ? (name) => wanted.has(name) : (name) => name.startsWith('system:serviceaccount:'));
      const stats = await readAuditLogs(inputs, (event) => usage.add(event));
      if (!stats.events) throw new InputFailure(`no audit events read from ${inputs.join(', ')}${stats.problems[0] ? ` (${problemLine(stats.problems[0])})` : ''}`);
      if (!subjects.length) {
        const ids = new Set<string>();
        const add = (s: SubjectRef) => {
          if (s.kind === 'ServiceAccount' && !isSystemSubject(s) && !ids.has(subjectId(s))) ids.add(subjectId(s)), subjects.push(s);
        };
        for (const entry of input.analysis.subjects.values()) add(entry.subject);
        for (const name of usage.principals.keys()) add(subjectOfUsername(name));
        subjects.sort((a, b) => subjectId(a).localeCompare(subjectId(b)));
      }
      const clusterScoped = (r: { group: string; resource: string }) => input.catalog.namespaced(r.group, r.resource) === false;
      const plans = subjects.map((s) => planLeastPrivilege(input.analysis, s, usage.principals.get(subjectUsername(s)!), clusterScoped, { maxNames: flags['max-names'] }));
      reportProblems([...input.problems, ...stats.problems]);
      if (flags.json) process.stdout.write(JSON.stringify({ auditEvents: usage.events, subjects: plans }, null, 2) + '\n');
      else process.stdout.write(plans.map(renderPlan).join('\n'));
    } finally {
      await fromSnapshot?.cleanup();
    }
  }
}
