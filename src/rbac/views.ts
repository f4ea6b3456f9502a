// The answers of `kscan rbac who-can` and `kscan rbac subject` as plain data (the JSON output) and
// as text. Risky permissions are the KS-RBAC checks' verdicts on the subject's EffectivePermissions,
// so the subject view and the scan's findings never disagree.
import type { Check } from '../checks/loader.js';
import { terminalSafeLines } from '../report/sanitize.js';
import type { Severity } from '../model/types.js';
import { grantPath, grantText, type Grant, type RbacAnalysis } from './analysis.js';
import { ruleObject } from './derive.js';
import { flagRules } from './risk.js';
import { describeRule, implicitGroups, subjectId, subjectUsername, type AccessRequest, type SubjectRef } from './model.js';

export interface GrantRef {
  binding: string;
  role: string;
  aggregatedFrom?: string;
  viaGroup?: string;
  rule: string;
  /** "binding → role → rule", as in findings. */
  path: string;
}

const refCache = new WeakMap<Grant['binding'], Map<Grant['rule'], GrantRef>>();

/** Cached per binding and rule (shared by the binding's subjects): who-can answers can hold thousands. */
function grantRef(grant: Grant): GrantRef {
  if (grant.viaGroup) return buildRef(grant);
  let byRule = refCache.get(grant.binding);
  if (!byRule) refCache.set(grant.binding, (byRule = new Map()));
  let ref = byRule.get(grant.rule);
  if (!ref) byRule.set(grant.rule, (ref = buildRef(grant)));
  return ref;
}

function buildRef(grant: Grant): GrantRef {
  const name = (kind: string, namespace: string | undefined, n: string) => `${kind} ${namespace ? `${namespace}/` : ''}${n}`;
  return {
    binding: name(grant.binding.kind, grant.binding.namespace, grant.binding.name),
    role: name(grant.role.kind, grant.role.namespace, grant.role.name),
    ...(grant.aggregatedFrom ? { aggregatedFrom: grant.aggregatedFrom } : {}),
    ...(grant.viaGroup ? { viaGroup: grant.viaGroup } : {}),
    rule: describeRule(grant.rule),
    path: grantText(grant),
  };
}

export const scopeLabel = (namespace: string) => (namespace === '' ? 'cluster-wide' : `namespace ${namespace}`);

export function requestLabel(request: AccessRequest): string {
  const resource = request.resource.startsWith('/') ? request.resource : `${request.resource}${request.group ? `.${request.group}` : ''}${request.subresource ? `/${request.subresource}` : ''}`;
  return `${request.verb} ${resource}${request.name ? ` ${request.name}` : ''}${request.namespace !== undefined ? ` in namespace ${request.namespace}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// who-can

export interface WhoCanSubject {
  id: string;
  kind: string;
  name: string;
  namespace?: string;
  system: boolean;
  grants: (GrantRef & { scope: string; match: 'full' | 'names'; resourceNames?: string[] })[];
}

export interface WhoCanView {
  request: AccessRequest;
  clusterScoped: boolean;
  subjects: WhoCanSubject[];
}

export function whoCanView(analysis: RbacAnalysis, request: AccessRequest, options: { clusterScoped?: boolean; includeSystem?: boolean } = {}): WhoCanView {
  const bySubject = new Map<string, WhoCanSubject>();
  // Grouped by subject first and the (far fewer) subjects sorted after: answers can hold thousands of grants.
  const scopes = new Map<string, string>();
  for (const answer of analysis.whoCan(request, { clusterScoped: options.clusterScoped, unsorted: true })) {
    if (answer.system && options.includeSystem === false) continue;
    let entry = bySubject.get(answer.id);
    if (!entry) {
      const { subject } = answer;
      bySubject.set(answer.id, (entry = { id: answer.id, kind: subject.kind, name: subject.name, ...(subject.namespace ? { namespace: subject.namespace } : {}), system: answer.system, grants: [] }));
    }
    entry.system &&= answer.system;
    // Fields copied one by one: object spread is several times slower on answers with thousands of grants.
    const ref = grantRef(answer.grant);
    const row: WhoCanSubject['grants'][number] = { binding: ref.binding, role: ref.role, rule: ref.rule, path: ref.path, scope: '', match: answer.match };
    const namespace = answer.grant.namespace;
    let scope = scopes.get(namespace);
    if (scope === undefined) scopes.set(namespace, (scope = scopeLabel(namespace)));
    row.scope = scope;
    if (ref.aggregatedFrom) row.aggregatedFrom = ref.aggregatedFrom;
    if (ref.viaGroup) row.viaGroup = ref.viaGroup;
    if (answer.grant.rule.resourceNames.length) row.resourceNames = answer.grant.rule.resourceNames;
    entry.grants.push(row);
  }
  const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const subjects = [...bySubject.values()].sort((a, b) => order(a.id, b.id));
  // Cluster-wide grants first, then by namespace, each subject's in binding order.
  for (const subject of subjects) if (subject.grants.length > 1) subject.grants.sort((a, b) => order(a.scope === 'cluster-wide' ? '' : a.scope, b.scope === 'cluster-wide' ? '' : b.scope));
  return { request, clusterScoped: Boolean(options.clusterScoped), subjects };
}

export function renderWhoCan(view: WhoCanView): string {
  const lines: string[] = [];
  const n = view.subjects.length;
  lines.push(`Who can ${requestLabel(view.request)}: ${n} subject${n === 1 ? '' : 's'}${view.clusterScoped ? ' (cluster-scoped: only ClusterRoleBindings count)' : ''}`);
  for (const subject of view.subjects) {
    lines.push('', `${subject.kind} ${subject.namespace ? `${subject.namespace}/` : ''}${subject.name}${subject.system ? '  (system)' : ''}`);
    for (const grant of subject.grants) {
      const names = grant.match === 'names' ? `  only resourceNames ${grant.resourceNames!.join(', ')}` : '';
      lines.push(`  ${grant.scope}: ${grant.path}${names}`);
    }
  }
  if (!n) lines.push('', 'No binding grants it.');
  // Names and rules come from the cluster: control characters are shown escaped, never sent to the terminal.
  return terminalSafeLines(lines.join('\n') + '\n');
}

// ---------------------------------------------------------------------------------------------
// subject

export interface RiskMark {
  checkId: string;
  title: string;
  severity: Severity;
}

export interface PermissionRow {
  /** "pods", "pods/exec", "deployments.apps", or a non-resource URL. */
  resource: string;
  resourceNames: string[];
  verbs: string[];
  via: string[];
  risks: RiskMark[];
}

export interface SubjectView {
  id: string;
  subject: SubjectRef & { username?: string };
  system: boolean;
  /** ServiceAccounts: whether it exists (undefined when unknown). */
  exists?: boolean;
  groups: string[];
  workloads: string[];
  bindings: number;
  /** Cluster-wide first, then namespaces by name. */
  scopes: { scope: string; namespace: string; permissions: PermissionRow[] }[];
  risks: (RiskMark & { grants: string[] })[];
}

const SEVERITY_ORDER: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** One grant narrowed to one resource (in one group) or one non-resource URL: a row of the view. */
interface Atom {
  grant: Grant;
  group?: string;
  resource?: string;
  url?: string;
}

function atomsOf(grant: Grant): Atom[] {
  const { apiGroups, resources, nonResourceURLs } = grant.rule;
  return [...apiGroups.flatMap((group) => resources.map((resource) => ({ grant, group, resource }))), ...nonResourceURLs.map((url) => ({ grant, url }))];
}

/** The KS-RBAC checks' verdict per atom: a risk lands on the resource that carries it (nodes/proxy, not the configmaps granted beside it). */
function riskyAtoms(view: { id: string; subject: SubjectRef }, atoms: Atom[], checks: Check[]): Map<number, RiskMark[]> {
  const rules = atoms.map((atom) => ({
    ...ruleObject(atom.grant),
    apiGroups: atom.url ? [] : [atom.group],
    resources: atom.url ? [] : [atom.resource],
    nonResourceURLs: atom.url ? [atom.url] : [],
  }));
  const out = new Map<number, RiskMark[]>();
  for (const [i, findings] of flagRules(view.id, view.subject, rules, checks)) {
    const marks: RiskMark[] = [];
    for (const f of findings) if (!marks.some((m) => m.checkId === f.checkId)) marks.push({ checkId: f.checkId, title: f.title, severity: f.severity });
    out.set(i, marks);
  }
  return out;
}

function resourceLabel(group: string, resource: string): string {
  if (!group) return resource;
  const slash = resource.indexOf('/');
  return slash < 0 ? `${resource}.${group}` : `${resource.slice(0, slash)}.${group}${resource.slice(slash)}`;
}

export function subjectView(analysis: RbacAnalysis, subject: SubjectRef, checks: Check[]): SubjectView {
  const id = subjectId(subject);
  const entry = analysis.subjects.get(id);
  const grants = analysis.grantsOf(subject);
  const atoms = grants.flatMap(atomsOf);
  const risky = riskyAtoms({ id, subject }, atoms, checks);
  const scopes = new Map<string, Map<string, PermissionRow>>();
  const risks = new Map<string, RiskMark & { grants: string[] }>();
  atoms.forEach((atom, i) => {
    const { grant } = atom;
    let rows = scopes.get(grant.namespace);
    if (!rows) scopes.set(grant.namespace, (rows = new Map()));
    const marks = risky.get(i) ?? [];
    const path = grantPath(grant);
    // One row per resource (per group) and resourceNames set, verbs merged across rules and bindings.
    const resource = atom.url ?? resourceLabel(atom.group!, atom.resource!);
    const key = `${resource}\u0000${grant.rule.resourceNames.join(',')}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { resource, resourceNames: [...grant.rule.resourceNames], verbs: [], via: [], risks: [] }));
    for (const verb of grant.rule.verbs) if (!row.verbs.includes(verb)) row.verbs.push(verb);
    if (!row.via.includes(path)) row.via.push(path);
    for (const mark of marks) {
      if (!row.risks.some((m) => m.checkId === mark.checkId)) row.risks.push(mark);
      const risk = risks.get(mark.checkId) ?? { ...mark, grants: [] };
      const text = grantText(grant);
      if (!risk.grants.includes(text)) risk.grants.push(text);
      risks.set(mark.checkId, risk);
    }
  });
  const username = subjectUsername(subject);
  return {
    id,
    subject: { ...subject, ...(username ? { username } : {}) },
    system: entry?.system ?? false,
    ...(entry?.exists !== undefined ? { exists: entry.exists } : {}),
    groups: implicitGroups(subject),
    workloads: (entry?.workloads ?? []).map((w) => `${w.kind} ${w.namespace}/${w.name}`),
    bindings: new Set(grants.map((g) => `${g.binding.kind}/${g.binding.namespace ?? ''}/${g.binding.name}`)).size,
    scopes: [...scopes.entries()]
      .sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)))
      .map(([namespace, rows]) => ({
        scope: scopeLabel(namespace),
        namespace,
        permissions: [...rows.values()]
          .map((row) => ({ ...row, verbs: row.verbs.includes('*') ? ['*'] : row.verbs.sort() }))
          .sort((a, b) => Number(b.risks.length > 0) - Number(a.risks.length > 0) || a.resource.localeCompare(b.resource)),
      })),
    risks: [...risks.values()].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) || a.checkId.localeCompare(b.checkId)),
  };
}

export function renderSubject(view: SubjectView): string {
  const lines: string[] = [];
  const s = view.subject;
  lines.push(`${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}${view.system ? '  (system)' : ''}${view.exists === false ? '  (does not exist: bindings name a missing account)' : ''}`);
  if (s.username) lines.push(`  user name: ${s.username}`);
  if (view.groups.length) lines.push(`  groups: ${view.groups.join(', ')}`);
  if (view.workloads.length) lines.push(`  workloads: ${view.workloads.join(', ')}`);
  lines.push(`  ${view.bindings} binding${view.bindings === 1 ? '' : 's'}; ${view.risks.length} risky permission${view.risks.length === 1 ? '' : 's'}`);
  if (view.risks.length) {
    lines.push('', 'Risky permissions:');
    for (const risk of view.risks) {
      lines.push(`  ! ${risk.severity.toUpperCase()} ${risk.checkId} ${risk.title}`);
      for (const grant of risk.grants) lines.push(`      ${grant}`);
    }
  }
  for (const scope of view.scopes) {
    lines.push('', `${scope.scope[0]!.toUpperCase()}${scope.scope.slice(1)}:`);
    const width = Math.min(48, Math.max(...scope.permissions.map((p) => p.resource.length + (p.resourceNames.length ? p.resourceNames.join(',').length + 3 : 0))));
    for (const p of scope.permissions) {
      const label = `${p.resource}${p.resourceNames.length ? ` [${p.resourceNames.join(',')}]` : ''}`;
      lines.push(`  ${p.risks.length ? '!' : ' '} ${label.padEnd(width)}  ${p.verbs.join(',')}${p.risks.length ? `  (${p.risks.map((r) => r.checkId).join(', ')})` : ''}`);
    }
  }
  if (!view.scopes.length) lines.push('', 'No binding grants it anything (directly or through its groups).');
  // Names and rules come from the cluster: control characters are shown escaped, never sent to the terminal.
  return terminalSafeLines(lines.join('\n') + '\n');
}
