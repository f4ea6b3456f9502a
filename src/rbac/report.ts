// The RBAC part of a scan: subjects ranked by power with the path to each risky permission,
// privileged workloads joined to their service accounts' risky permissions (one finding with the
// whole chain), and, with audit logs, which risky permissions were actually used, when and by whom.
import type { Finding, Severity } from '../model/types.js';
import type { ReportSection } from '../scan/result.js';
import type { ScanExtension } from '../scan/scan.js';
import { makeFinding, type FindingSource } from '../findings/finding.js';
import { checkInFrameworks } from '../checks/frameworks.js';
import { formatPath, podSpecOf } from '../inventory/podspec.js';
import { readAuditLogs } from '../audit/reader.js';
import type { Check } from '../checks/loader.js';
import { analyseRbac, type Grant, grantText, type RbacAnalysis, type SubjectEntry } from './analysis.js';
import { EFFECTIVE_PERMISSIONS_KIND, ROLE_USAGE_KIND, ruleObject } from './derive.js';
import { flagRules } from './risk.js';
import { ruleAllows, subjectUsername } from './model.js';
import { UsageLog, type UsedRequest } from './usage.js';

export const RISKY_WORKLOAD = {
  id: 'KS-RBAC-150',
  title: 'Privileged workload runs as a powerful service account',
  severity: 'critical',
  category: 'rbac',
  remediation: 'Break the chain at either end: drop the workload\'s host access and privileges, or give it a dedicated service account with only the permissions it uses (`kscan rbac least-privilege`).',
  controls: { nsa: ['nsa-3.3'], mitre: ['T1611'] },
} satisfies FindingSource;

const WEIGHT: Record<Severity, number> = { critical: 10, high: 6, medium: 3, low: 1, info: 0 };

export interface PermissionUse {
  count: number;
  first?: string;
  last?: string;
  /** User names that made the requests (a group's members, or the subject itself). */
  by: string[];
}

export interface RiskyPermission {
  checkId: string;
  title: string;
  severity: Severity;
  /** binding → role → rule paths that grant it. */
  grants: string[];
  used?: PermissionUse;
}

export interface RbacSubjectSummary {
  id: string;
  kind: string;
  system: boolean;
  /** Sum of the risky permissions' severity weights, doubled for those used in the audit log. */
  power: number;
  workloads: string[];
  risks: RiskyPermission[];
}

export interface RiskyWorkload {
  workload: string;
  serviceAccount: string;
  risk: number;
  /** The workload's own critical/high findings (privileged, host access, ...). */
  posture: string[];
  /** The service account's risky permissions. */
  permissions: string[];
  /** workload → service account → binding → role → rule. */
  chain: string[];
}

export interface RbacReport {
  summary: {
    roles: number;
    bindings: number;
    subjects: number;
    systemSubjects: number;
    riskySubjects: number;
    riskyWorkloads: number;
    unusedRoles: number;
    problems: number;
    /** Audit events read to mark used permissions, when audit logs were given. */
    auditEvents?: number;
  };
  /** Subjects with risky permissions, most powerful first (at most 100). */
  subjects: RbacSubjectSummary[];
  riskyWorkloads: RiskyWorkload[];
}

export interface RbacExtensionOptions {
  /** Audit log files or directories: mark which risky permissions were used. */
  audit?: string[];
}

const MAX_SUBJECTS = 100;

/** One audited request a grant allowed, and who made it. */
interface UsedThrough {
  grant: Grant;
  request: UsedRequest;
  by: string;
}

/** For each subject, the audited requests each of its grants allowed, keyed by grant text. */
function grantUse(entry: SubjectEntry, usage: UsageLog): Map<string, UsedThrough[]> {
  const principals =
    entry.subject.kind === 'Group'
      ? [...usage.principals.values()].filter((p) => p.groups.has(entry.subject.name))
      : [usage.principals.get(subjectUsername(entry.subject) ?? '')].filter((p) => p !== undefined);
  const out = new Map<string, UsedThrough[]>();
  for (const grant of entry.grants) {
    const text = grantText(grant);
    for (const principal of principals) {
      for (const request of principal.requests.values()) {
        if (grant.namespace !== '' && request.namespace !== grant.namespace) continue;
        if (ruleAllows(grant.rule, request) !== 'full') continue;
        const list = out.get(text);
        if (list) list.push({ grant, request, by: principal.username });
        else out.set(text, [{ grant, request, by: principal.username }]);
      }
    }
  }
  return out;
}

/**
 * The uses that exercised the risk itself: each request, narrowed to a rule of its own (its verb and
 * resource, the grant's scope and resourceNames), is put to the check that found the risk. A rule
 * granting "list secrets" and "get pods/exec" used only to list secrets has not used its exec risk.
 * Without the check (custom callers), every use of the rule counts.
 */
function riskyUses(check: Check | undefined, entry: SubjectEntry, uses: UsedThrough[]): UsedThrough[] {
  if (!check || !uses.length) return uses;
  const rules = uses.map(({ grant, request }) => {
    const url = request.resource.startsWith('/');
    return {
      ...ruleObject(grant),
      verbs: [request.verb],
      apiGroups: url ? [] : [request.group],
      resources: url ? [] : [request.subresource ? `${request.resource}/${request.subresource}` : request.resource],
      nonResourceURLs: url ? [request.resource] : [],
    };
  });
  const flagged = flagRules(entry.id, entry.subject, rules, [check]);
  return uses.filter((_, i) => flagged.has(i));
}

function toUse(uses: UsedThrough[]): PermissionUse | undefined {
  if (!uses.length) return undefined;
  const use: PermissionUse = { count: 0, by: [] };
  const seen = new Set<UsedRequest>();
  for (const { request, by } of uses) {
    if (!seen.has(request)) {
      seen.add(request);
      use.count += request.count;
      if (request.first && (!use.first || request.first < use.first)) use.first = request.first;
      if (request.last && (!use.last || request.last > use.last)) use.last = request.last;
    }
    if (!use.by.includes(by)) use.by.push(by);
  }
  return use;
}

/**
 * The grant texts a KS-RBAC finding names: its messages end " via <grant>; <grant>..." (checks/rbac),
 * so splitting is exact and linear; any other message falls back to searching for each text.
 */
function grantsNamedIn(message: string, texts: string[], known: Set<string>): string[] {
  const via = message.indexOf(' via ');
  if (via >= 0) {
    const named = message.slice(via + 5).split(/; (?=(?:RoleBinding|ClusterRoleBinding|group) )/).filter((text) => known.has(text));
    if (named.length) return [...new Set(named)];
  }
  return texts.filter((text) => message.includes(text));
}

export function describeUse(use: PermissionUse): string {
  return `used ${use.count} time${use.count === 1 ? '' : 's'}${use.last ? `, last ${use.last}` : ''} by ${use.by.slice(0, 3).join(', ')}${use.by.length > 3 ? ` and ${use.by.length - 3} more` : ''}`;
}

export interface RbacOutcome {
  report: RbacReport;
  /** Compound workload findings to add. */
  findings: Finding[];
}

/**
 * Builds the report from the analysis and the scan's findings (the KS-RBAC checks on
 * EffectivePermissions, the workload checks), marking used permissions in the findings' messages.
 */
export function buildRbacReport(analysis: RbacAnalysis, findings: Finding[], options: { usage?: UsageLog; frameworks?: string[]; checks?: Check[] } = {}): RbacOutcome {
  const checksById = new Map((options.checks ?? []).map((check) => [check.id, check]));
  const bySubject = new Map<string, Finding[]>();
  let unusedRoles = 0;
  for (const finding of findings) {
    if (finding.object.kind === ROLE_USAGE_KIND) unusedRoles++;
    if (finding.object.kind !== EFFECTIVE_PERMISSIONS_KIND) continue;
    const list = bySubject.get(finding.object.name);
    if (list) list.push(finding);
    else bySubject.set(finding.object.name, [finding]);
  }
  const subjects: RbacSubjectSummary[] = [];
  for (const [id, subjectFindings] of bySubject) {
    const entry = analysis.subjects.get(id);
    if (!entry) continue;
    const uses = options.usage ? grantUse(entry, options.usage) : new Map<string, UsedThrough[]>();
    const risks: RiskyPermission[] = [];
    const texts = [...new Set(entry.grants.map(grantText))];
    const known = new Set(texts);
    for (const finding of subjectFindings) {
      const grants = grantsNamedIn(finding.message, texts, known);
      const used = toUse(riskyUses(checksById.get(finding.checkId), entry, grants.flatMap((text) => uses.get(text) ?? [])));
      // Used risky permissions are said so in the finding itself, so every report shows it.
      if (used) finding.message += ` (${describeUse(used)})`;
      risks.push({ checkId: finding.checkId, title: finding.title, severity: finding.severity, grants, ...(used ? { used } : {}) });
    }
    const power = risks.reduce((sum, risk) => sum + WEIGHT[risk.severity] * (risk.used ? 2 : 1), 0);
    risks.sort((a, b) => Number(Boolean(b.used)) - Number(Boolean(a.used)) || WEIGHT[b.severity] - WEIGHT[a.severity] || a.checkId.localeCompare(b.checkId));
    subjects.push({ id, kind: entry.subject.kind, system: entry.system, power, workloads: entry.workloads.map((w) => `${w.kind} ${w.namespace}/${w.name}`), risks });
  }
  subjects.sort((a, b) => b.power - a.power || a.id.localeCompare(b.id));

  const riskyWorkloads: RiskyWorkload[] = [];
  const compound: Finding[] = [];
  const emitCompound = !options.frameworks?.length || checkInFrameworks(RISKY_WORKLOAD.controls, options.frameworks);
  const postureOf = new Map<string, Finding[]>();
  for (const finding of findings) {
    if (finding.category !== 'workload' || WEIGHT[finding.severity] < WEIGHT.high) continue;
    const key = `${finding.object.kind}/${finding.object.namespace ?? ''}/${finding.object.name}`;
    const list = postureOf.get(key);
    if (list) list.push(finding);
    else postureOf.set(key, [finding]);
  }
  for (const subject of subjects) {
    const entry = analysis.subjects.get(subject.id)!;
    const powerful = subject.risks.filter((risk) => WEIGHT[risk.severity] >= WEIGHT.high);
    if (entry.subject.kind !== 'ServiceAccount' || !powerful.length) continue;
    for (const workload of entry.workloads) {
      const posture = postureOf.get(`${workload.kind}/${workload.namespace}/${workload.name}`) ?? [];
      if (!posture.length) continue;
      const name = `${workload.kind} ${workload.namespace}/${workload.name}`;
      const top = powerful[0]!;
      const chain = [name, `ServiceAccount ${workload.namespace}/${entry.subject.name}`, ...(top.grants[0] ?? '').split(' → ').filter(Boolean)];
      const postureText = [...new Set(posture.map((f) => `${f.title.toLowerCase()} (${f.checkId})`))];
      const permissions = powerful.map((risk) => `${risk.title.toLowerCase()} (${risk.checkId})${risk.used ? ' [used]' : ''}`);
      const risk = subject.power + posture.reduce((sum, f) => sum + WEIGHT[f.severity], 0);
      riskyWorkloads.push({ workload: name, serviceAccount: subject.id, risk, posture: postureText, permissions, chain });
      if (emitCompound) {
        const view = podSpecOf(workload.object);
        const message = `${name} has ${postureText.join(', ')} and runs as ServiceAccount ${workload.namespace}/${entry.subject.name}, which ${permissions.join(', ')}: ${chain.join(' → ')}`;
        compound.push(makeFinding(RISKY_WORKLOAD, workload.object, view ? formatPath([...view.path, 'serviceAccountName']) : '', message));
      }
    }
  }
  riskyWorkloads.sort((a, b) => b.risk - a.risk || a.workload.localeCompare(b.workload));

  const report: RbacReport = {
    summary: {
      roles: analysis.roles.size,
      bindings: analysis.bindings.length,
      subjects: analysis.subjects.size,
      systemSubjects: [...analysis.subjects.values()].filter((s) => s.system).length,
      riskySubjects: subjects.length,
      riskyWorkloads: riskyWorkloads.length,
      unusedRoles,
      problems: analysis.problemCount,
      ...(options.usage ? { auditEvents: options.usage.events } : {}),
    },
    subjects: subjects.slice(0, MAX_SUBJECTS),
    riskyWorkloads,
  };
  return { report, findings: compound };
}

export function rbacReportSection(report: RbacReport, top = 20): ReportSection {
  const figures: NonNullable<ReportSection['figures']> = [
    { label: 'Subjects', value: `${report.summary.subjects} (${report.summary.systemSubjects} system)` },
    { label: 'Subjects with risky permissions', value: report.summary.riskySubjects, ...(report.summary.riskySubjects ? { severity: 'high' as const } : {}) },
    { label: 'Privileged workloads with powerful accounts', value: report.summary.riskyWorkloads, ...(report.summary.riskyWorkloads ? { severity: 'critical' as const } : {}) },
    { label: 'Unused roles', value: report.summary.unusedRoles },
    { label: 'Roles / bindings', value: `${report.summary.roles} / ${report.summary.bindings}` },
  ];
  if (report.summary.problems) figures.push({ label: 'RBAC input problems', value: report.summary.problems, severity: 'low' });
  if (report.summary.auditEvents !== undefined) figures.push({ label: 'Audit requests checked for use', value: report.summary.auditEvents });
  const pathRows: (string | number)[][] = [];
  for (const subject of report.subjects.slice(0, top)) {
    for (const risk of subject.risks) {
      for (const grant of risk.grants) pathRows.push([subject.id, risk.title, risk.severity, grant, risk.used ? describeUse(risk.used) : '']);
    }
  }
  return {
    id: 'rbac',
    title: 'RBAC: effective permissions',
    summary: `${report.summary.riskySubjects} of ${report.summary.subjects} subjects hold risky permissions; system components and bootstrap-policy grants are left out.${report.summary.auditEvents !== undefined ? ' Permissions used in the audit log rank higher.' : ''}`,
    figures,
    tables: [
      {
        title: 'Privileged workloads running as powerful service accounts',
        columns: ['workload', 'risk', 'posture', 'permissions', 'chain'],
        rows: report.riskyWorkloads.map((w) => [w.workload, w.risk, w.posture.join('; '), w.permissions.join('; '), w.chain.join(' → ')]),
      },
      {
        title: 'Subjects ranked by power',
        columns: ['subject', 'power', 'risky permissions', 'used', 'workloads'],
        rows: report.subjects.slice(0, top).map((s) => [s.id, s.power, s.risks.map((r) => r.checkId).join(', '), s.risks.filter((r) => r.used).length, s.workloads.join(', ')]),
      },
      { title: 'Paths to risky permissions', columns: ['subject', 'permission', 'severity', 'granted by', 'used'], rows: pathRows },
    ].filter((table) => table.rows.length > 0),
  };
}

/** The scan extension: section, typed result, compound workload findings, audit-log usage. */
export function rbacExtension(options: RbacExtensionOptions = {}): ScanExtension {
  return {
    name: 'rbac',
    async run(context) {
      const analysis = analyseRbac(context.collection.objects);
      let usage: UsageLog | undefined;
      if (options.audit?.length) {
        usage = new UsageLog();
        const log = usage;
        await readAuditLogs(options.audit, (event) => log.add(event));
      }
      const outcome = buildRbacReport(analysis, context.findings, { usage, frameworks: context.frameworks, checks: context.checks });
      context.findings.push(...outcome.findings);
      context.result.coverage.errors.push(...analysis.problems);
      if (analysis.problemCount > analysis.problems.length) {
        context.result.coverage.errors.push({ source: 'RBAC', message: `${analysis.problemCount - analysis.problems.length} more RBAC problems not shown`, stage: 'collect' });
      }
      if (!analysis.roles.size && !analysis.bindings.length) return;
      context.result.rbac = outcome.report;
      (context.result.sections ??= []).push(rbacReportSection(outcome.report));
    },
  };
}
