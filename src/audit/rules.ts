// Audit rules are checks with `match.auditEvents`: CEL over the event, with cheap pre-filters (verbs,
// resources, API groups, response codes, namespaces) compiled into sets and tested before any CEL,
// so the expressions run only on the few candidate events. A rule's `threshold` makes it stateful.
import type { Check, AuditThreshold } from '../checks/loader.js';
import { InputFailure } from '../util/errors.js';
import type { AuditEvent } from './event.js';
import { resourceKey } from './event.js';

export interface AuditRule {
  check: Check;
  params: Record<string, unknown>;
  verbs?: Set<string>;
  resources?: Set<string>;
  /** "*" in resources: any request on a resource (not a non-resource URL). */
  anyResource: boolean;
  apiGroups?: Set<string>;
  codes?: Set<number>;
  namespaces?: Set<string>;
  excludeNamespaces?: Set<string>;
  users?: Set<string>;
  userPrefixes?: string[];
  present?: string[];
  /**
   * When the rule's `when` and `assert` read only small fields of the event (user, verb, source IPs,
   * object reference, response code), the getters of those fields: events with the same values get
   * the same verdict, so the verdict is computed once per distinct tuple instead of once per event.
   */
  verdictFields?: KeyGetter[];
  threshold?: { count: number; windowMs: number; groupBy: AuditThreshold['groupBy'] };
}

export function isAuditRule(check: Check): boolean {
  return Boolean(check.match.auditEvents);
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000 } as const;

export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)$/.exec(text.trim());
  if (!match || Number(match[1]) <= 0) throw new InputFailure(`invalid duration "${text}" (use e.g. 30s, 5m, 1h)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

const setOf = <T>(values: T[] | undefined): Set<T> | undefined => (values?.length ? new Set(values) : undefined);

/**
 * Compiles the audit rules among the checks; `overrides` (rule id → params, from --rule-params)
 * replace a rule's parameters key by key.
 */
export function compileAuditRules(checks: Check[], overrides: Record<string, Record<string, unknown>> = {}): AuditRule[] {
  return checks.filter(isAuditRule).map((check) => {
    const filters = check.match.auditEvents === true ? {} : check.match.auditEvents ?? {};
    const resources = filters.resources ?? [];
    return {
      check,
      params: { ...(check.params ?? {}), ...(overrides[check.id] ?? {}) },
      verbs: setOf(filters.verbs),
      resources: resources.includes('*') ? undefined : setOf(resources),
      anyResource: resources.includes('*'),
      apiGroups: setOf(filters.apiGroups),
      codes: setOf(filters.codes),
      namespaces: setOf(check.match.namespaces),
      excludeNamespaces: setOf(check.match.excludeNamespaces),
      ...userFilter(filters.users),
      present: filters.present?.length ? filters.present : undefined,
      verdictFields: verdictFieldsOf([check.when, check.assert]),
      threshold: check.threshold ? { count: check.threshold.count, windowMs: parseDuration(check.threshold.window), groupBy: check.threshold.groupBy } : undefined,
    };
  });
}

// Every rule object gets every field (undefined when unused): one hidden class on the hot path.
function userFilter(users: string[] | undefined): Pick<AuditRule, 'users' | 'userPrefixes'> {
  const prefixes = (users ?? []).filter((u) => u.endsWith('*')).map((u) => u.slice(0, -1));
  return { users: setOf((users ?? []).filter((u) => !u.endsWith('*'))), userPrefixes: prefixes.length ? prefixes : undefined };
}

function userMatches(rule: AuditRule, user: string): boolean {
  if (rule.users?.has(user)) return true;
  for (const prefix of rule.userPrefixes ?? []) if (user.startsWith(prefix)) return true;
  return false;
}

/** The pre-filter: true when the rule's CEL needs to look at the event. */
export function isCandidate(rule: AuditRule, event: AuditEvent, verb: string, resource: string, fields?: EventFields): boolean {
  if (rule.verbs && !rule.verbs.has(verb)) return false;
  if (rule.resources && !rule.resources.has(resource)) return false;
  if (rule.anyResource && !event.objectRef?.resource) return false;
  if (rule.apiGroups && !rule.apiGroups.has(event.objectRef?.apiGroup ?? '')) return false;
  if (rule.codes && !rule.codes.has((fields ? fields.code : event.responseStatus?.code) ?? 0)) return false;
  if (rule.namespaces && !rule.namespaces.has(event.objectRef?.namespace ?? '')) return false;
  if (rule.excludeNamespaces && rule.excludeNamespaces.has(event.objectRef?.namespace ?? '')) return false;
  if ((rule.users || rule.userPrefixes) && !userMatches(rule, (fields ? fields.username : event.user?.username) ?? '')) return false;
  if (rule.present) for (const field of rule.present) if ((event as Record<string, unknown>)[field] === undefined) return false;
  return true;
}

/**
 * The fields every event is asked for, read once per event by the analyzer into one object of a
 * fixed shape: parsed events come in many shapes, so reading them again per rule is slow.
 */
export interface EventFields {
  username: string | undefined;
  verb: string | undefined;
  code: number | undefined;
}

export function readFields(event: AuditEvent, into: EventFields): EventFields {
  into.username = event.user?.username;
  into.verb = event.verb;
  into.code = event.responseStatus?.code;
  return into;
}

// Fields a verdict may be keyed on: small values that are the whole of what CEL can read of them.
// Getters return the values themselves (no string building): they are the keys of a trie of maps.
type KeyGetter = (event: AuditEvent, fields: EventFields) => unknown;
const KEY_FIELDS: Record<string, KeyGetter[]> = {
  'user.username': [(_, f) => f.username],
  'impersonatedUser.username': [(e) => e.impersonatedUser?.username],
  verb: [(_, f) => f.verb],
  // The number of addresses first (-1: not a list), so that one address, a joined list and a
  // malformed value never share a branch.
  sourceIPs: [(e) => (Array.isArray(e.sourceIPs) ? e.sourceIPs.length : e.sourceIPs === undefined ? undefined : -1), (e) => ipsKey(e.sourceIPs)],
  userAgent: [(e) => e.userAgent],
  requestURI: [(e) => e.requestURI],
  stage: [(e) => e.stage],
  'responseStatus.code': [(_, f) => f.code],
  'objectRef.resource': [(e) => e.objectRef?.resource],
  'objectRef.subresource': [(e) => e.objectRef?.subresource],
  'objectRef.namespace': [(e) => e.objectRef?.namespace],
  'objectRef.name': [(e) => e.objectRef?.name],
  'objectRef.apiGroup': [(e) => e.objectRef?.apiGroup],
};
function ipsKey(ips: unknown): unknown {
  if (!Array.isArray(ips)) return ips;
  if (ips.length === 1) return ips[0];
  return ips.map((ip) => (typeof ip === 'string' ? `${ip.length}:${ip}` : `?${JSON.stringify(ip)}`)).join('');
}
const EVENT_PATH = /\bevent((?:\.\??[A-Za-z_][A-Za-z0-9_]*)*)/g;
/** One annotation by its literal key, `event.?annotations[?'authorization.k8s.io/reason']`: keyed on that value alone. */
const ANNOTATION = /\bevent\.\??annotations\[\??'([^'\\]+)'\]/g;
const ABSENT = Symbol('absent');

/**
 * Verdicts remembered by the values of the event fields a rule reads: a trie of maps, one level per
 * field, so a lookup builds no key. Bounded: it starts over when full.
 */
export class VerdictMemo {
  private root = new Map<unknown, unknown>();
  private size = 0;
  constructor(private readonly getters: KeyGetter[], private readonly capacity = 20_000) {}

  get(event: AuditEvent, fields: EventFields): boolean | undefined {
    let node: unknown = this.root;
    for (const get of this.getters) {
      node = (node as Map<unknown, unknown>).get(get(event, fields) ?? ABSENT);
      if (node === undefined) return undefined;
    }
    return node as boolean;
  }

  set(event: AuditEvent, fields: EventFields, verdict: boolean): void {
    if (this.size >= this.capacity) this.clear();
    let node = this.root;
    const last = this.getters.length - 1;
    for (let i = 0; i < last; i++) {
      const key = this.getters[i](event, fields) ?? ABSENT;
      let next = node.get(key) as Map<unknown, unknown> | undefined;
      if (!next) node.set(key, (next = new Map()));
      node = next;
    }
    node.set(this.getters[last](event, fields) ?? ABSENT, verdict);
    this.size++;
  }

  clear(): void {
    this.root = new Map();
    this.size = 0;
  }
}

/**
 * The getters of the fields a rule's expressions read, or undefined when they read anything else of
 * the event (request bodies, other annotations, the whole event): every `event...` path must be one
 * of KEY_FIELDS, and annotations are read by literal key.
 */
export function verdictFieldsOf(sources: (string | undefined)[]): KeyGetter[] | undefined {
  const fields = new Set<string>();
  const annotations = new Set<string>();
  for (const original of sources) {
    if (!original) continue;
    const source = original.replace(ANNOTATION, (_, key: string) => {
      annotations.add(key);
      return 'annotation';
    });
    for (const match of source.matchAll(EVENT_PATH)) {
      const segments = match[1].replace(/\?/g, '').split('.').slice(1);
      // `event.?x.orValue(...)`: the last segment is a method called on the field, not part of it.
      if (source[(match.index ?? 0) + match[0].length] === '(') segments.pop();
      const field = segments.join('.');
      if (!KEY_FIELDS[field]) return undefined;
      fields.add(field);
    }
  }
  const getters = [...fields].sort().flatMap((field) => KEY_FIELDS[field]);
  for (const key of [...annotations].sort()) getters.push((e) => e.annotations?.[key]);
  // A rule that reads nothing of the event has one verdict for all of them.
  return getters.length ? getters : [() => ABSENT];
}

/** The value of one threshold groupBy dimension. */
export function groupValue(event: AuditEvent, dimension: AuditThreshold['groupBy'][number]): string {
  switch (dimension) {
    case 'user':
      return event.user?.username ?? '';
    case 'sourceIP':
      return event.sourceIPs?.[0] ?? '';
    case 'namespace':
      return event.objectRef?.namespace ?? '';
    case 'verb':
      return event.verb ?? '';
    case 'resource':
      return resourceKey(event);
    case 'userAgent':
      return event.userAgent ?? '';
  }
}
