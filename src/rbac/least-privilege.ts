// Least privilege from the audit log (like audit2rbac): the minimal Roles/ClusterRoles and bindings
// that cover what a subject actually did, and the over-privilege report: which granted rules it
// never used, and the reduced roles (a YAML patch) that would remove them.
//
// Generation: allowed requests only (denied ones were never granted, so never needed). Namespaced
// requests become a Role per namespace; cluster-scoped and all-namespace requests a ClusterRole;
// non-resource URLs a ClusterRole rule. resourceNames are used only where the authorizer can
// honour them and the subject touched few objects: get/update/patch/delete on at most
// `maxNames` names, every such request naming one (list, watch and create cannot be limited by name).
import { Document, isScalar, isSeq, visit } from 'yaml';
import { terminalSafeLines } from '../report/sanitize.js';
import type { K8sObject } from '../model/types.js';
import { grantText, roleKeyOf, type Grant, type RbacAnalysis, type RoleNode } from './analysis.js';
import { ruleAllows, subjectId, subjectUsername, type AccessRequest, type PolicyRule, type SubjectRef } from './model.js';
import type { PrincipalUsage, UsedRequest } from './usage.js';

const RBAC_API = 'rbac.authorization.k8s.io/v1';
const NAMEABLE = new Set(['get', 'update', 'patch', 'delete']);
const MAX_DENIED_SHOWN = 20;

export interface LeastPrivilegeOptions {
  /** At most this many distinct names become resourceNames; more and the rule covers every object. */
  maxNames?: number;
}

export interface UnusedGrant {
  scope: string;
  /** binding → role → rule. */
  grant: string;
  /** "all" when nothing the rule allows was used; else the parts never used. */
  unused: 'all' | { verbs: string[]; resources: string[]; resourceNames: string[] };
  /** Verbs and resources the subject did use through this rule. */
  used?: { verbs: string[]; resources: string[] };
}

export interface RolePatch {
  role: string;
  /** The reduced role (same name): rules limited to what was used. Absent when nothing was used. */
  reduced?: K8sObject;
  /** Why the role is not patched in place: shared with other subjects, aggregated, system. */
  notPatched?: string;
  /** When no rule of the role was used: the bindings to remove the subject from. */
  removeFrom?: string[];
}

export interface LeastPrivilegePlan {
  id: string;
  subject: SubjectRef;
  username: string;
  /** Distinct allowed requests and how many requests they stand for. */
  requests: number;
  events: number;
  denied: number;
  /** The distinct denied requests, "verb resource in namespace" (not granted, not needed). */
  deniedRequests: string[];
  /** Allowed in the log but granted by no current RBAC binding (another authorizer, or a binding since removed). */
  ungranted: string[];
  /** The generated minimal roles and bindings. */
  generated: K8sObject[];
  /** Grants held (not from the bootstrap policy) and the ones never or partly used. */
  granted: number;
  unused: UnusedGrant[];
  patches: RolePatch[];
  /** Set when the subject made no request in the logs read. */
  note?: string;
}

const requestText = (r: UsedRequest) => `${r.verb} ${r.group ? `${r.group}/` : ''}${resourceString(r)}${r.name ? ` ${r.name}` : ''}${r.namespace ? ` in ${r.namespace}` : ''} (${r.count}x)`;
const resourceString = (r: AccessRequest) => (r.subresource ? `${r.resource}/${r.subresource}` : r.resource);
const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** Minimal rules for a set of requests in one scope. `names` decides resourceNames per (resource, verb). */
export function rulesFor(requests: readonly AccessRequest[], names: (verb: string, requested: Set<string | undefined>) => string[] | undefined): PolicyRule[] {
  const urls = new Map<string, Set<string>>();
  // group → resource → verb → names requested (undefined: a request without a name).
  const atoms = new Map<string, Map<string, Map<string, Set<string | undefined>>>>();
  for (const r of requests) {
    if (r.resource.startsWith('/')) {
      const verbs = urls.get(r.resource) ?? new Set();
      urls.set(r.resource, verbs.add(r.verb));
      continue;
    }
    let byResource = atoms.get(r.group);
    if (!byResource) atoms.set(r.group, (byResource = new Map()));
    const resource = resourceString(r);
    let byVerb = byResource.get(resource);
    if (!byVerb) byResource.set(resource, (byVerb = new Map()));
    const requested = byVerb.get(r.verb) ?? new Set();
    byVerb.set(r.verb, requested.add(r.name));
  }
  // (group, resourceNames) → resource → verbs; then resources with the same verbs share a rule.
  const merged = new Map<string, { group: string; names: string[]; resources: Map<string, Set<string>> }>();
  for (const [group, byResource] of atoms) {
    for (const [resource, byVerb] of byResource) {
      for (const [verb, requested] of byVerb) {
        const resourceNames = names(verb, requested) ?? [];
        const key = `${group}\u0000${resourceNames.join(',')}`;
        let entry = merged.get(key);
        if (!entry) merged.set(key, (entry = { group, names: resourceNames, resources: new Map() }));
        const verbs = entry.resources.get(resource) ?? new Set();
        entry.resources.set(resource, verbs.add(verb));
      }
    }
  }
  const rules: PolicyRule[] = [];
  for (const entry of merged.values()) {
    const byVerbs = new Map<string, string[]>();
    for (const [resource, verbs] of entry.resources) {
      const key = sorted(verbs).join(',');
      byVerbs.set(key, [...(byVerbs.get(key) ?? []), resource]);
    }
    for (const [verbs, resources] of byVerbs) rules.push({ verbs: verbs.split(','), apiGroups: [entry.group], resources: sorted(resources), resourceNames: entry.names, nonResourceURLs: [] });
  }
  const byUrlVerbs = new Map<string, string[]>();
  for (const [url, verbs] of urls) {
    const key = sorted(verbs).join(',');
    byUrlVerbs.set(key, [...(byUrlVerbs.get(key) ?? []), url]);
  }
  for (const [verbs, list] of byUrlVerbs) rules.push({ verbs: verbs.split(','), apiGroups: [], resources: [], resourceNames: [], nonResourceURLs: sorted(list) });
  return rules.sort((a, b) => (a.apiGroups[0] ?? '~').localeCompare(b.apiGroups[0] ?? '~') || (a.resources[0] ?? a.nonResourceURLs[0] ?? '').localeCompare(b.resources[0] ?? b.nonResourceURLs[0] ?? '') || a.verbs.join().localeCompare(b.verbs.join()));
}

/** A rule as it is written in a manifest: empty lists left out. */
export function ruleManifest(rule: PolicyRule): Record<string, string[]> {
  return {
    ...(rule.nonResourceURLs.length ? {} : { apiGroups: rule.apiGroups }),
    ...(rule.resources.length ? { resources: rule.resources } : {}),
    ...(rule.resourceNames.length ? { resourceNames: rule.resourceNames } : {}),
    ...(rule.nonResourceURLs.length ? { nonResourceURLs: rule.nonResourceURLs } : {}),
    verbs: rule.verbs,
  };
}

function bindingSubject(subject: SubjectRef): Record<string, string> {
  return subject.kind === 'ServiceAccount'
    ? { kind: 'ServiceAccount', name: subject.name, namespace: subject.namespace ?? '' }
    : { kind: subject.kind, apiGroup: 'rbac.authorization.k8s.io', name: subject.name };
}

/** The name generated roles and bindings get: kscan:least-privilege:<ns>:<name> or :<user>. */
export function generatedName(subject: SubjectRef): string {
  return `kscan:least-privilege:${subject.kind === 'ServiceAccount' ? `${subject.namespace}:` : ''}${subject.name}`;
}

const LABELS = { 'app.kubernetes.io/managed-by': 'kscan' };

function generate(subject: SubjectRef, requests: readonly UsedRequest[], clusterScoped: (r: AccessRequest) => boolean, maxNames: number): K8sObject[] {
  const byScope = new Map<string, AccessRequest[]>();
  for (const r of requests) {
    const scope = r.resource.startsWith('/') || r.namespace === undefined || clusterScoped(r) ? '' : r.namespace;
    byScope.set(scope, [...(byScope.get(scope) ?? []), r]);
  }
  const names = (verb: string, requested: Set<string | undefined>) =>
    NAMEABLE.has(verb) && !requested.has(undefined) && requested.size <= maxNames ? sorted(requested as Set<string>) : undefined;
  const name = generatedName(subject);
  const out: K8sObject[] = [];
  for (const scope of [...byScope.keys()].sort()) {
    const rules = rulesFor(byScope.get(scope)!, names).map(ruleManifest);
    const metadata = { name, ...(scope ? { namespace: scope } : {}), labels: LABELS };
    out.push({ apiVersion: RBAC_API, kind: scope ? 'Role' : 'ClusterRole', metadata, rules });
    out.push({ apiVersion: RBAC_API, kind: scope ? 'RoleBinding' : 'ClusterRoleBinding', metadata, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: scope ? 'Role' : 'ClusterRole', name }, subjects: [bindingSubject(subject)] });
  }
  return out;
}

const inScope = (grant: Grant, r: AccessRequest) => grant.namespace === '' || (!r.resource.startsWith('/') && r.namespace === grant.namespace);

function unusedParts(grant: Grant, used: readonly AccessRequest[]): UnusedGrant['unused'] {
  if (!used.length) return 'all';
  const verbs = new Set(used.map((r) => r.verb));
  const resources = new Set(used.map((r) => (r.resource.startsWith('/') ? r.resource : resourceString(r))));
  const names = new Set(used.map((r) => r.name));
  const rule = grant.rule;
  return {
    verbs: rule.verbs.includes('*') ? [`* except ${sorted(verbs).join(',')}`] : rule.verbs.filter((v) => !verbs.has(v)),
    resources: [...rule.resources, ...rule.nonResourceURLs].filter((x) => !resources.has(x) && !x.includes('*')).concat(
      [...rule.resources, ...rule.nonResourceURLs].filter((x) => x.includes('*')).map((x) => `${x} except ${sorted(resources).join(',')}`),
    ),
    resourceNames: rule.resourceNames.filter((n) => !names.has(n)),
  };
}

const roleLabel = (role: RoleNode) => `${role.kind} ${role.namespace ? `${role.namespace}/` : ''}${role.name}`;
const bindingLabel = (g: Grant) => `${g.binding.kind} ${g.binding.namespace ? `${g.binding.namespace}/` : ''}${g.binding.name}`;

/** The reduced version of each role bound directly to the subject, or why it is not patched. */
function patches(analysis: RbacAnalysis, subject: SubjectRef, grants: Grant[], usedBy: Map<Grant, AccessRequest[]>): RolePatch[] {
  const id = subjectId(subject);
  const byRole = new Map<string, Grant[]>();
  for (const grant of grants) {
    if (grant.viaGroup) continue;
    const key = roleKeyOf(grant.role.kind, grant.role.namespace, grant.role.name);
    byRole.set(key, [...(byRole.get(key) ?? []), grant]);
  }
  const out: RolePatch[] = [];
  for (const [key, roleGrants] of byRole) {
    const role = roleGrants[0]!.role;
    if (roleGrants.every((g) => (usedBy.get(g) ?? []).length > 0 && unusedIsEmpty(unusedParts(g, usedBy.get(g)!)))) continue;
    const anyUsed = roleGrants.some((g) => (usedBy.get(g) ?? []).length);
    const others = new Set((analysis.boundBy.get(key) ?? []).flatMap((b) => b.subjects.map(subjectId)).filter((s) => s !== id));
    const reasons: string[] = [];
    if (others.size) reasons.push(`shared with ${others.size} other subject${others.size === 1 ? '' : 's'} (${[...others].slice(0, 3).join(', ')}${others.size > 3 ? ', ...' : ''})`);
    if (role.selectors?.length) reasons.push('its rules are managed by ClusterRole aggregation');
    if (role.system) reasons.push('it is a bootstrap/system role');
    const removeFrom = anyUsed ? undefined : sorted(roleGrants.map(bindingLabel));
    if (reasons.length) {
      out.push({ role: roleLabel(role), notPatched: `${reasons.join('; ')}: bind the generated least-privilege role instead and remove ${id} from ${sorted(roleGrants.map(bindingLabel)).join(', ')}`, ...(removeFrom ? { removeFrom } : {}) });
      continue;
    }
    if (!anyUsed) {
      out.push({ role: roleLabel(role), removeFrom: removeFrom! });
      continue;
    }
    // Reduce each rule to the verbs and resources used through it, keeping its resourceNames (only those used).
    const rules: PolicyRule[] = [];
    for (const grant of roleGrants) {
      const used = usedBy.get(grant) ?? [];
      if (!used.length) continue;
      const keepNames = grant.rule.resourceNames;
      for (const rule of rulesFor(used, (_verb, requested) => (keepNames.length ? keepNames.filter((n) => requested.has(n)) : undefined))) {
        if (!rules.some((r) => JSON.stringify(r) === JSON.stringify(rule))) rules.push(rule);
      }
    }
    const metadata = { name: role.name, ...(role.namespace ? { namespace: role.namespace } : {}) };
    out.push({ role: roleLabel(role), reduced: { apiVersion: RBAC_API, kind: role.kind, metadata, rules: rules.map(ruleManifest) } });
  }
  return out;
}

function unusedIsEmpty(unused: UnusedGrant['unused']): boolean {
  return unused !== 'all' && !unused.verbs.length && !unused.resources.length && !unused.resourceNames.length;
}

export function planLeastPrivilege(analysis: RbacAnalysis, subject: SubjectRef, principal: PrincipalUsage | undefined, clusterScoped: (r: AccessRequest) => boolean, options: LeastPrivilegeOptions = {}): LeastPrivilegePlan {
  const username = subjectUsername(subject) ?? subject.name;
  const requests = [...(principal?.requests.values() ?? [])];
  // Grants from the bootstrap policy (discovery, basic-user) are everyone's and not the app's to shed.
  const grants = analysis.grantsOf(subject, [...(principal?.groups ?? [])]).filter((g) => !g.binding.system);
  const usedBy = new Map<Grant, AccessRequest[]>();
  for (const grant of grants) {
    usedBy.set(grant, requests.filter((r) => inScope(grant, r) && !(grant.namespace !== '' && clusterScoped(r)) && ruleAllows(grant.rule, r) === 'full'));
  }
  const unused: UnusedGrant[] = [];
  for (const grant of grants) {
    const used = usedBy.get(grant)!;
    const parts = unusedParts(grant, used);
    if (unusedIsEmpty(parts)) continue;
    unused.push({
      scope: grant.namespace === '' ? 'cluster-wide' : grant.namespace,
      grant: grantText(grant),
      unused: parts,
      ...(used.length ? { used: { verbs: sorted(used.map((r) => r.verb)), resources: sorted(used.map(resourceString)) } } : {}),
    });
  }
  const denied = [...(principal?.deniedRequests.values() ?? [])];
  const all = analysis.grantsOf(subject, [...(principal?.groups ?? [])]);
  const covered = (r: AccessRequest) => all.some((g) => inScope(g, r) && !(g.namespace !== '' && clusterScoped(r)) && ruleAllows(g.rule, r) === 'full');
  return {
    id: subjectId(subject),
    subject,
    username,
    requests: requests.length,
    events: requests.reduce((sum, r) => sum + r.count, 0),
    denied: principal?.denied ?? 0,
    deniedRequests: denied.slice(0, MAX_DENIED_SHOWN).map(requestText),
    ungranted: requests.filter((r) => !covered(r)).slice(0, MAX_DENIED_SHOWN).map(requestText),
    generated: generate(subject, requests, clusterScoped, options.maxNames ?? 3),
    granted: grants.length,
    unused,
    patches: patches(analysis, subject, grants, usedBy),
    ...(principal ? (requests.length ? {} : { note: 'every request it made was denied: it needs no permission' }) : { note: 'no request by this subject in the audit logs read: it used nothing, so every grant is unused' }),
  };
}

/** Multi-document YAML, lists of plain strings in flow style (`verbs: [get, list]`) as people write RBAC. */
export function toYaml(objects: readonly K8sObject[]): string {
  return objects
    .map((object) => {
      const doc = new Document(object, { aliasDuplicateObjects: false });
      visit(doc, { Seq: (_key, node) => void (isSeq(node) && node.items.every(isScalar) && (node.flow = true)) });
      return doc.toString({ lineWidth: 0 });
    })
    .join('---\n');
}

export function renderPlan(plan: LeastPrivilegePlan): string {
  const lines: string[] = [];
  lines.push(`# ${plan.id} (${plan.username}): ${plan.events} allowed request${plan.events === 1 ? '' : 's'} (${plan.requests} distinct), ${plan.denied} denied; ${plan.granted} granted rule${plan.granted === 1 ? '' : 's'}, ${plan.unused.length} unused or partly unused`);
  if (plan.note) lines.push(`# ${plan.note}`);
  for (const d of plan.deniedRequests) lines.push(`# denied (not granted, not needed): ${d}`);
  for (const u of plan.ungranted.slice(0, 5)) lines.push(`# allowed in the log but granted by no current binding: ${u}`);
  if (plan.ungranted.length > 5) lines.push(`# ... and ${plan.ungranted.length - 5} more allowed requests no current binding grants (see --json)`);
  if (plan.generated.length) lines.push('# Minimal roles and bindings covering what it did:', toYaml(plan.generated).trimEnd());
  if (plan.unused.length) {
    lines.push('', '# Over-privilege: granted but unused');
    for (const u of plan.unused) {
      const what = u.unused === 'all' ? 'never used' : [u.unused.verbs.length ? `verbs ${u.unused.verbs.join(',')}` : '', u.unused.resources.length ? `resources ${u.unused.resources.join(',')}` : '', u.unused.resourceNames.length ? `names ${u.unused.resourceNames.join(',')}` : ''].filter(Boolean).join('; ') + ' unused';
      lines.push(`#   [${u.scope}] ${u.grant}: ${what}`);
    }
  }
  const reduced = plan.patches.filter((p) => p.reduced).map((p) => p.reduced!);
  for (const p of plan.patches) {
    if (p.notPatched) lines.push(`# ${p.role}: not patched, ${p.notPatched}`);
    else if (p.removeFrom) lines.push(`# ${p.role}: nothing used; remove ${plan.id} from ${p.removeFrom.join(', ')}`);
  }
  if (reduced.length) lines.push('', '# Patch: the reduced roles (kubectl apply) that remove the unused permissions:', toYaml(reduced).trimEnd());
  // Names and rules come from the cluster: control characters are shown escaped, never sent to the terminal.
  return terminalSafeLines(lines.join('\n') + '\n');
}
