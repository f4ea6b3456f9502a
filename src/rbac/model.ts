// The RBAC vocabulary: subjects and their ids, policy rules, and the Kubernetes authorizer's rule
// matching (wildcards, subresources, resourceNames, non-resource URLs), kept apart from any index.

export type SubjectKind = 'User' | 'Group' | 'ServiceAccount';

export interface SubjectRef {
  kind: SubjectKind;
  name: string;
  /** ServiceAccounts only. */
  namespace?: string;
}

/** A normalised PolicyRule: every list present (possibly empty), nothing else. */
export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

/** One request to authorise, as kubectl auth can-i and the audit log see it. */
export interface AccessRequest {
  verb: string;
  /** API group, "" for the core group. Ignored for non-resource URLs. */
  group: string;
  /** Plural resource, or a non-resource URL starting with "/". */
  resource: string;
  subresource?: string;
  /** Omitted for cluster-wide requests and cluster-scoped resources. */
  namespace?: string;
  name?: string;
}

/**
 * The text form used on the command line and as EffectivePermissions names:
 * `serviceaccount/<ns>/<name>`, `user/<name>`, `group/<name>`.
 */
export function subjectId(subject: SubjectRef): string {
  if (subject.kind === 'ServiceAccount') return `serviceaccount/${subject.namespace ?? ''}/${subject.name}`;
  return `${subject.kind.toLowerCase()}/${subject.name}`;
}

/** The user name the API server sees: system:serviceaccount:<ns>:<name> for a ServiceAccount. */
export function subjectUsername(subject: SubjectRef): string | undefined {
  if (subject.kind === 'ServiceAccount') return `system:serviceaccount:${subject.namespace ?? ''}:${subject.name}`;
  return subject.kind === 'User' ? subject.name : undefined;
}

const SA_USERNAME = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** The subject an authenticated user name stands for: a ServiceAccount or a User. */
export function subjectOfUsername(username: string): SubjectRef {
  const sa = SA_USERNAME.exec(username);
  return sa ? { kind: 'ServiceAccount', namespace: sa[1]!, name: sa[2]! } : { kind: 'User', name: username };
}

/**
 * Parses `serviceaccount/ns/name` (also `sa/ns/name`, `serviceaccount/ns:name`), `user/alice`,
 * `group/system:masters`, or a ServiceAccount user name `system:serviceaccount:ns:name`.
 * Returns undefined for anything else.
 */
export function parseSubjectId(text: string): SubjectRef | undefined {
  if (SA_USERNAME.test(text)) return subjectOfUsername(text);
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const kind = text.slice(0, slash).toLowerCase();
  const rest = text.slice(slash + 1);
  if (!rest) return undefined;
  if (kind === 'user') return { kind: 'User', name: rest };
  if (kind === 'group') return { kind: 'Group', name: rest };
  if (kind === 'serviceaccount' || kind === 'sa') {
    const parts = rest.includes('/') ? rest.split('/') : rest.split(':');
    if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
    return { kind: 'ServiceAccount', namespace: parts[0], name: parts[1] };
  }
  return undefined;
}

/** The groups every authenticated ServiceAccount belongs to, as the API server assigns them. */
export function implicitGroups(subject: SubjectRef): string[] {
  if (subject.kind === 'ServiceAccount') return ['system:serviceaccounts', `system:serviceaccounts:${subject.namespace ?? ''}`, 'system:authenticated'];
  if (subject.kind === 'User') return subject.name === 'system:anonymous' ? ['system:unauthenticated'] : ['system:authenticated'];
  return [];
}

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined);

/** Normalises a rule from an object; returns a reason when it is malformed (the authorizer would reject it). */
export function normaliseRule(raw: unknown): PolicyRule | string {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'rule is not an object';
  const r = raw as Record<string, unknown>;
  const field = (name: string): string[] | string => (r[name] === undefined || r[name] === null ? [] : (strings(r[name]) ?? `${name} is not a list of strings`));
  const verbs = field('verbs');
  const apiGroups = field('apiGroups');
  const resources = field('resources');
  const resourceNames = field('resourceNames');
  const nonResourceURLs = field('nonResourceURLs');
  for (const value of [verbs, apiGroups, resources, resourceNames, nonResourceURLs]) if (typeof value === 'string') return value;
  const rule = { verbs, apiGroups, resources, resourceNames, nonResourceURLs } as PolicyRule;
  if (!rule.verbs.length) return 'rule has no verbs';
  if (!rule.resources.length && !rule.nonResourceURLs.length) return 'rule names neither resources nor nonResourceURLs';
  return rule;
}

const has = (list: readonly string[], value: string) => list.includes('*') || list.includes(value);

/** The authorizer's resource match: "*", "pods", "pods/exec", "*\/exec". A plain "pods" does not cover "pods/exec". */
export function resourceMatches(rule: PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const candidate of rule.resources) {
    if (candidate === '*' || candidate === combined) return true;
    if (subresource && candidate === `*/${subresource}`) return true;
  }
  return false;
}

/** Non-resource URL match: exact, or a trailing "*" prefix. */
export function urlMatches(rule: PolicyRule, url: string): boolean {
  return rule.nonResourceURLs.some((pattern) => pattern === '*' || pattern === url || (pattern.endsWith('*') && url.startsWith(pattern.slice(0, -1))));
}

export type RuleMatch = 'full' | 'names' | 'none';

/**
 * Whether a rule allows the request: "full", "names" when it only allows some resourceNames and the
 * request names none (kubectl would say no, but the subject can still act on those objects), "none".
 */
export function ruleAllows(rule: PolicyRule, request: AccessRequest): RuleMatch {
  if (!has(rule.verbs, request.verb)) return 'none';
  if (request.resource.startsWith('/')) return urlMatches(rule, request.resource) ? 'full' : 'none';
  if (!has(rule.apiGroups, request.group)) return 'none';
  if (!resourceMatches(rule, request.resource, request.subresource)) return 'none';
  if (!rule.resourceNames.length) return 'full';
  if (request.name === undefined) return 'names';
  return rule.resourceNames.includes(request.name) ? 'full' : 'none';
}

/** "pods/exec" → { resource: "pods", subresource: "exec" }. */
export function splitResource(text: string): { resource: string; subresource?: string } {
  if (text.startsWith('/')) return { resource: text };
  const slash = text.indexOf('/');
  return slash < 0 ? { resource: text } : { resource: text.slice(0, slash), subresource: text.slice(slash + 1) };
}

/** A short readable form of a rule: "get,list secrets", "* *.*", "get /metrics". */
export function describeRule(rule: PolicyRule): string {
  const verbs = rule.verbs.join(',');
  const parts: string[] = [];
  if (rule.resources.length) {
    const groups = rule.apiGroups.map((g) => (g === '' ? 'core' : g));
    const resources = rule.resources.join(',');
    parts.push(`${verbs} ${resources}${groups.length === 1 && groups[0] === 'core' ? '' : ` (${groups.join(',') || 'no group'})`}${rule.resourceNames.length ? ` [${rule.resourceNames.join(',')}]` : ''}`);
  }
  if (rule.nonResourceURLs.length) parts.push(`${verbs} ${rule.nonResourceURLs.join(',')}`);
  return parts.join('; ');
}

export function ruleKey(rule: PolicyRule): string {
  return JSON.stringify([rule.verbs, rule.apiGroups, rule.resources, rule.resourceNames, rule.nonResourceURLs]);
}
