// The effective permission model: every binding resolved to its role's rules (aggregated
// ClusterRoles included), indexed by subject, so "who can do X" and "what can S do" are lookups.
// Built once per object set; bad input (bindings to missing roles, malformed rules) is reported
// as problems and the rest of the RBAC data is still analysed.
import type { CollectedObject, InputError, K8sObject, SourceDocument } from '../model/types.js';
import { Inventory } from '../inventory/inventory.js';
import { podSpecOf, WORKLOAD_KINDS } from '../inventory/podspec.js';
import {
  describeRule,
  implicitGroups,
  normaliseRule,
  ruleAllows,
  ruleKey,
  subjectId,
  type AccessRequest,
  type PolicyRule,
  type RuleMatch,
  type SubjectKind,
  type SubjectRef,
} from './model.js';

export interface RoleNode {
  kind: 'Role' | 'ClusterRole';
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  /** The role's own valid rules. */
  rules: PolicyRule[];
  selectors?: LabelSelector[];
  /** Bootstrap policy or a system:/kubeadm: role. */
  system: boolean;
  source?: SourceDocument;
}

export interface BindingNode {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  name: string;
  namespace?: string;
  roleRef: { kind: string; name: string };
  subjects: SubjectRef[];
  system: boolean;
  source?: SourceDocument;
}

/** One rule a subject holds through one binding: the unit every answer is made of. */
export interface Grant {
  subject: SubjectRef;
  binding: BindingNode;
  role: RoleNode;
  rule: PolicyRule;
  /** The ClusterRole whose own rule this is, when it reached the bound role by aggregation. */
  aggregatedFrom?: string;
  /** "" for every namespace (a ClusterRoleBinding), else the RoleBinding's namespace. */
  namespace: string;
  /** Granted by the bootstrap policy or kubeadm, or held by a system component. */
  system: boolean;
  /** Set when the subject holds this only as a member of a group (subject views). */
  viaGroup?: string;
}

export interface WorkloadRef {
  kind: string;
  namespace: string;
  name: string;
  object: K8sObject;
}

export interface SubjectEntry {
  subject: SubjectRef;
  id: string;
  /** Direct grants: bindings that name this subject. */
  grants: Grant[];
  system: boolean;
  /** ServiceAccounts: whether the object exists; undefined when that cannot be known from the input. */
  exists?: boolean;
  /** Workloads running as this ServiceAccount. */
  workloads: WorkloadRef[];
  /** The first binding naming the subject, for locating findings in files. */
  source?: SourceDocument;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface WhoCanAnswer {
  subject: SubjectRef;
  id: string;
  system: boolean;
  /** "full", or "names" when limited to resourceNames the request did not name. */
  match: Exclude<RuleMatch, 'none'>;
  grant: Grant;
}

const BOOTSTRAP_LABEL = 'kubernetes.io/bootstrapping';
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);
/** system: groups that stand for many ordinary principals: never "system", always reported. */
const BROAD_GROUPS = /^system:(authenticated|unauthenticated|serviceaccounts(:.*)?)$/;

export function isSystemSubject(subject: SubjectRef): boolean {
  if (subject.kind === 'ServiceAccount') return SYSTEM_NAMESPACES.has(subject.namespace ?? '');
  if (subject.name === 'system:anonymous') return false;
  return subject.name.startsWith('system:') && !BROAD_GROUPS.test(subject.name);
}

function isSystemObject(object: K8sObject): boolean {
  const name = object.metadata?.name ?? '';
  return object.metadata?.labels?.[BOOTSTRAP_LABEL] === 'rbac-defaults' || name.startsWith('system:') || name.startsWith('kubeadm:');
}

function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(labels, expression.key);
    const values = expression.values ?? [];
    const ok =
      expression.operator === 'In' ? present && values.includes(labels[expression.key]!)
      : expression.operator === 'NotIn' ? !present || !values.includes(labels[expression.key]!)
      : expression.operator === 'Exists' ? present
      : expression.operator === 'DoesNotExist' ? !present
      : false;
    if (!ok) return false;
  }
  // An empty selector selects nothing in aggregation (the controller skips it).
  return Boolean(Object.keys(selector.matchLabels ?? {}).length || (selector.matchExpressions ?? []).length);
}

export const roleKeyOf = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;
const ref = (object: K8sObject) => `${object.kind} ${object.metadata?.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata?.name ?? '?'}`;

/** Readable grant path: binding → role (→ aggregated source) → rule. */
export function grantPath(grant: Grant): string {
  const binding = `${grant.binding.kind} ${grant.binding.namespace ? `${grant.binding.namespace}/` : ''}${grant.binding.name}`;
  const role = `${grant.role.kind} ${grant.role.name}`;
  return `${grant.viaGroup ? `group ${grant.viaGroup} → ` : ''}${binding} → ${role}${grant.aggregatedFrom ? ` (aggregated from ClusterRole ${grant.aggregatedFrom})` : ''}`;
}

/** Everything, everywhere: the cluster-admin role, or "*" verbs on "*" resources in "*" groups cluster-wide. */
export function isClusterAdminGrant(grant: Grant): boolean {
  if (grant.namespace !== '') return false;
  if (grant.role.kind === 'ClusterRole' && grant.role.name === 'cluster-admin') return true;
  const { verbs, resources, apiGroups } = grant.rule;
  return verbs.includes('*') && resources.includes('*') && apiGroups.includes('*');
}

const textCache = new WeakMap<BindingNode, Map<PolicyRule, string>>();

/**
 * The grant with its rule: the identity findings, usage and reports share. Cached per binding and
 * rule (a binding's rule objects are shared by all its subjects), so large clusters with hundreds of
 * thousands of grants build each text once.
 */
export function grantText(grant: Grant): string {
  let byRule = textCache.get(grant.binding);
  if (!byRule) textCache.set(grant.binding, (byRule = new Map()));
  let text = byRule.get(grant.rule);
  if (text === undefined) byRule.set(grant.rule, (text = `${grantPath({ ...grant, viaGroup: undefined })} → ${describeRule(grant.rule)}`));
  return grant.viaGroup ? `group ${grant.viaGroup} → ${text}` : text;
}

const MAX_PROBLEMS = 50;

const idCache = new WeakMap<SubjectRef, string>();
/** subjectId, once per subject object (every grant of a binding shares its subjects' objects). */
function cachedSubjectId(subject: SubjectRef): string {
  let id = idCache.get(subject);
  if (id === undefined) idCache.set(subject, (id = subjectId(subject)));
  return id;
}

export class RbacAnalysis {
  readonly roles = new Map<string, RoleNode>();
  readonly bindings: BindingNode[] = [];
  readonly subjects = new Map<string, SubjectEntry>();
  /** Every grant, in binding order. */
  readonly grants: Grant[] = [];
  /** Bad input: bindings to missing roles, malformed rules and subjects. At most MAX_PROBLEMS kept. */
  readonly problems: InputError[] = [];
  problemCount = 0;
  /** Bindings naming each role, by role key. */
  readonly boundBy = new Map<string, BindingNode[]>();
  /** ClusterRoles each ClusterRole's rules are aggregated into. */
  readonly aggregatedInto = new Map<string, string[]>();
  private readonly effectiveRules = new Map<string, { rule: PolicyRule; from?: string }[]>();

  constructor(items: readonly CollectedObject[]) {
    const serviceAccounts = new Set<string>();
    const namespacesWithAccounts = new Set<string>();
    const bindingObjects: CollectedObject[] = [];
    for (const item of items) {
      const { object } = item;
      if (object.kind === 'Role' || object.kind === 'ClusterRole') this.addRole(item);
      else if (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding') bindingObjects.push(item);
      else if (object.kind === 'ServiceAccount' && object.metadata?.namespace) {
        serviceAccounts.add(`${object.metadata.namespace}/${object.metadata.name}`);
        namespacesWithAccounts.add(object.metadata.namespace);
      }
    }
    // Aggregation first, so every ClusterRole feeding another is known as used.
    for (const role of this.roles.values()) if (role.selectors) this.rulesOf(role);
    for (const item of bindingObjects) this.addBinding(item);
    for (const entry of this.subjects.values()) {
      const { subject } = entry;
      // A namespace whose ServiceAccounts were collected at all (every real namespace has "default")
      // tells whether a bound account is missing; otherwise (a manifest directory) it is unknown.
      if (subject.kind === 'ServiceAccount' && namespacesWithAccounts.has(subject.namespace ?? '')) entry.exists = serviceAccounts.has(`${subject.namespace}/${subject.name}`);
    }
    this.joinWorkloads(items);
  }

  problem(where: string, message: string, document?: SourceDocument): void {
    this.problemCount++;
    const source = document ? document.file : where;
    const text = document ? `${where}: ${message}` : message;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ source, ...(document ? { line: document.line } : {}), message: text, stage: 'collect' });
  }

  private addRole({ object, source }: CollectedObject): void {
    const kind = object.kind as RoleNode['kind'];
    const name = object.metadata?.name;
    if (!name) return this.problem(ref(object), 'role has no name', source);
    const rules: PolicyRule[] = [];
    const rawRules = object['rules'];
    if (rawRules !== undefined && rawRules !== null && !Array.isArray(rawRules)) this.problem(ref(object), 'rules is not a list; role ignored', source);
    (Array.isArray(rawRules) ? rawRules : []).forEach((raw, i) => {
      const rule = normaliseRule(raw);
      if (typeof rule === 'string') this.problem(ref(object), `rules[${i}]: ${rule}; rule ignored`, source);
      else rules.push(rule);
    });
    const aggregation = object['aggregationRule'] as { clusterRoleSelectors?: LabelSelector[] } | undefined;
    const node: RoleNode = {
      kind,
      name,
      ...(kind === 'Role' ? { namespace: object.metadata.namespace ?? '' } : {}),
      labels: object.metadata.labels ?? {},
      rules,
      ...(kind === 'ClusterRole' && Array.isArray(aggregation?.clusterRoleSelectors) ? { selectors: aggregation.clusterRoleSelectors } : {}),
      system: isSystemObject(object),
      ...(source ? { source } : {}),
    };
    this.roles.set(roleKeyOf(kind, node.namespace, name), node);
  }

  /** A ClusterRole's rules with aggregation applied (transitively, as the controller converges to). */
  rulesOf(role: RoleNode): { rule: PolicyRule; from?: string }[] {
    const key = roleKeyOf(role.kind, role.namespace, role.name);
    const cached = this.effectiveRules.get(key);
    if (cached) return cached;
    const out: { rule: PolicyRule; from?: string }[] = [];
    const seen = new Set<string>();
    const add = (rule: PolicyRule, from?: string) => {
      const k = ruleKey(rule);
      if (!seen.has(k)) seen.add(k), out.push(from ? { rule, from } : { rule });
    };
    for (const rule of role.rules) add(rule);
    this.effectiveRules.set(key, out); // cycle guard: a role aggregating itself sees its own rules once
    if (role.selectors?.length) {
      const visited = new Set<string>([role.name]);
      const queue: RoleNode[] = [role];
      while (queue.length) {
        const current = queue.shift()!;
        for (const candidate of this.clusterRolesSelectedBy(current)) {
          if (visited.has(candidate.name)) continue;
          visited.add(candidate.name);
          const into = this.aggregatedInto.get(candidate.name) ?? [];
          if (!into.includes(role.name)) this.aggregatedInto.set(candidate.name, [...into, role.name]);
          for (const rule of candidate.rules) add(rule, candidate.name);
          queue.push(candidate);
        }
      }
    }
    return out;
  }

  private clusterRolesSelectedBy(role: RoleNode): RoleNode[] {
    if (!role.selectors?.length) return [];
    const out: RoleNode[] = [];
    for (const candidate of this.roles.values()) {
      if (candidate.kind === 'ClusterRole' && role.selectors.some((s) => s && typeof s === 'object' && selectorMatches(s, candidate.labels))) out.push(candidate);
    }
    return out;
  }

  private addBinding({ object, source }: CollectedObject): void {
    const kind = object.kind as BindingNode['kind'];
    const where = ref(object);
    const roleRef = object['roleRef'] as { kind?: unknown; name?: unknown } | undefined;
    if (!roleRef || typeof roleRef.kind !== 'string' || typeof roleRef.name !== 'string') return this.problem(where, 'roleRef is missing or malformed; binding ignored', source);
    if (kind === 'ClusterRoleBinding' && roleRef.kind !== 'ClusterRole') return this.problem(where, `a ClusterRoleBinding can only refer to a ClusterRole, not ${roleRef.kind}; binding ignored`, source);
    const namespace = kind === 'RoleBinding' ? (object.metadata?.namespace ?? '') : '';
    const role = this.roles.get(roleKeyOf(roleRef.kind, roleRef.kind === 'Role' ? namespace : undefined, roleRef.name));
    const subjects: SubjectRef[] = [];
    const rawSubjects = object['subjects'];
    (Array.isArray(rawSubjects) ? rawSubjects : []).forEach((raw: { kind?: unknown; name?: unknown; namespace?: unknown }, i) => {
      if (!raw || typeof raw.name !== 'string' || !['User', 'Group', 'ServiceAccount'].includes(raw.kind as string)) {
        return this.problem(where, `subjects[${i}]: needs kind User, Group or ServiceAccount and a name; subject ignored`, source);
      }
      const subjectKind = raw.kind as SubjectKind;
      // A ServiceAccount subject without a namespace means the binding's own (RoleBinding) namespace.
      const saNamespace = typeof raw.namespace === 'string' && raw.namespace ? raw.namespace : namespace;
      if (subjectKind === 'ServiceAccount' && !saNamespace) return this.problem(where, `subjects[${i}]: ServiceAccount ${raw.name} has no namespace; subject ignored`, source);
      subjects.push(subjectKind === 'ServiceAccount' ? { kind: subjectKind, name: raw.name, namespace: saNamespace } : { kind: subjectKind, name: raw.name });
    });
    const binding: BindingNode = {
      kind,
      name: object.metadata?.name ?? '',
      ...(kind === 'RoleBinding' ? { namespace } : {}),
      roleRef: { kind: roleRef.kind, name: roleRef.name },
      subjects,
      system: isSystemObject(object),
      ...(source ? { source } : {}),
    };
    this.bindings.push(binding);
    if (!role) return this.problem(where, `refers to ${roleRef.kind} ${roleRef.kind === 'Role' ? `${namespace}/` : ''}${roleRef.name}, which does not exist; it grants nothing`, source);
    const roleKey = roleKeyOf(role.kind, role.namespace, role.name);
    const bound = this.boundBy.get(roleKey);
    if (bound) bound.push(binding);
    else this.boundBy.set(roleKey, [binding]);
    const rules = this.rulesOf(role);
    for (const subject of subjects) {
      const id = subjectId(subject);
      let entry = this.subjects.get(id);
      if (!entry) {
        entry = { subject, id, grants: [], system: isSystemSubject(subject), workloads: [], ...(source ? { source } : {}) };
        this.subjects.set(id, entry);
      }
      for (const { rule, from } of rules) {
        const grant: Grant = { subject, binding, role, rule, namespace, system: binding.system || entry.system, ...(from ? { aggregatedFrom: from } : {}) };
        entry.grants.push(grant);
        this.grants.push(grant);
      }
    }
  }

  private joinWorkloads(items: readonly CollectedObject[]): void {
    const workloadKinds = new Set(WORKLOAD_KINDS);
    const candidates = items.filter((item) => workloadKinds.has(item.object.kind));
    if (!candidates.length) return;
    const inventory = new Inventory(candidates);
    for (const { object } of candidates) {
      const view = podSpecOf(object);
      if (!view || inventory.podSpecIsOwned(object)) continue;
      const namespace = object.metadata?.namespace ?? 'default';
      const account = (view.spec['serviceAccountName'] as string | undefined) ?? (view.spec['serviceAccount'] as string | undefined) ?? 'default';
      const entry = this.subjects.get(subjectId({ kind: 'ServiceAccount', namespace, name: account }));
      entry?.workloads.push({ kind: object.kind, namespace, name: object.metadata?.name ?? '', object });
    }
  }

  /** Grants a subject holds directly and through the groups it is known to belong to. */
  grantsOf(subject: SubjectRef, extraGroups: string[] = []): Grant[] {
    const direct = this.subjects.get(subjectId(subject))?.grants ?? [];
    const out = [...direct];
    for (const group of new Set([...implicitGroups(subject), ...extraGroups])) {
      for (const grant of this.subjects.get(subjectId({ kind: 'Group', name: group }))?.grants ?? []) out.push({ ...grant, subject, viaGroup: group });
    }
    return out;
  }

  /**
   * Every subject that can make the request, and through which grant. Without a namespace, grants in
   * any namespace are listed (each with its scope); with one, cluster-wide grants and that namespace's.
   * A cluster-scoped resource (nodes, namespaces, ...) or a non-resource URL is granted only cluster-wide:
   * a RoleBinding never reaches it.
   */
  whoCan(request: AccessRequest, options: { clusterScoped?: boolean; unsorted?: boolean } = {}): WhoCanAnswer[] {
    const out: WhoCanAnswer[] = [];
    const clusterOnly = options.clusterScoped === true || request.resource.startsWith('/');
    for (const grant of this.candidates(request)) {
      if (grant.namespace !== '' && (clusterOnly || (request.namespace !== undefined && grant.namespace !== request.namespace))) continue;
      const match = ruleAllows(grant.rule, request);
      if (match === 'none') continue;
      out.push({ subject: grant.subject, id: cachedSubjectId(grant.subject), system: grant.system, match, grant });
    }
    if (options.unsorted) return out;
    // Plain code-unit order: localeCompare is many times slower on answers with thousands of grants.
    const order = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    return out.sort((a, b) => order(a.id, b.id) || order(a.grant.namespace, b.grant.namespace));
  }

  /**
   * Grants whose verb and resource can match, from an index by verb and resource built on first use:
   * who-can on a large cluster then looks at a few thousand rules, not every grant. A rule with a
   * wildcard verb (or resource) is filed under "*" only, so no grant comes back twice; non-resource
   * URLs are filed under "/".
   */
  private candidates(request: AccessRequest): Grant[] {
    // One question (the CLI) is answered fastest by a plain scan; the index pays off from the second.
    if (!this.index && this.queries++ === 0) return this.grants;
    if (!this.index) {
      this.index = new Map();
      const file = (verb: string, resource: string, grant: Grant) => {
        const key = `${verb} ${resource}`;
        const list = this.index!.get(key);
        if (list) list.push(grant);
        else this.index!.set(key, [grant]);
      };
      for (const grant of this.grants) {
        const { verbs, resources, nonResourceURLs } = grant.rule;
        const verbKeys = verbs.includes('*') ? ['*'] : [...new Set(verbs)];
        const resourceKeys = resources.some((r) => r.includes('*')) ? ['*'] : [...new Set(resources)];
        if (nonResourceURLs.length) resourceKeys.push('/');
        for (const verb of verbKeys) for (const resource of resourceKeys) file(verb, resource, grant);
      }
    }
    const resource = request.resource.startsWith('/') ? '/' : request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
    const verbs = request.verb === '*' ? ['*'] : [request.verb, '*'];
    const resources = resource === '/' || resource === '*' ? [resource] : [resource, '*'];
    const out: Grant[] = [];
    for (const verb of verbs) for (const r of resources) for (const grant of this.index.get(`${verb} ${r}`) ?? []) out.push(grant);
    return out;
  }

  private index?: Map<string, Grant[]>;
  private queries = 0;

  /** Whether the subject (with its groups) can make the request: the grants that allow it fully. */
  can(subject: SubjectRef, request: AccessRequest, options: { clusterScoped?: boolean; groups?: string[] } = {}): Grant[] {
    const clusterOnly = options.clusterScoped === true || request.resource.startsWith('/') || request.namespace === undefined;
    return this.grantsOf(subject, options.groups).filter((grant) => (grant.namespace === '' || (!clusterOnly && grant.namespace === request.namespace)) && ruleAllows(grant.rule, request) === 'full');
  }
}

const cache = new WeakMap<readonly CollectedObject[], RbacAnalysis>();

/** The analysis of an object set, computed once per array (derivation and the scan extension share it). */
export function analyseRbac(items: readonly CollectedObject[]): RbacAnalysis {
  let analysis = cache.get(items);
  if (!analysis) cache.set(items, (analysis = new RbacAnalysis(items)));
  return analysis;
}
