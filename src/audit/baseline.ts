// Baselines: learn what each principal normally does (actions, namespaces, source IPs, user agents,
// hours of the day) from a learning period, then flag what a principal never did before. The
// profile also keeps the learning period's totals, for rates against the previous period.
import { readFile } from 'node:fs/promises';
import type { FindingSource } from '../findings/finding.js';
import { InputFailure, errorMessage } from '../util/errors.js';
import type { AuditEvent } from './event.js';
import { CappedCounter } from './summary.js';

export const BASELINE_KIND = 'KscanAuditBaseline';
export const BASELINE_VERSION = 1;

/** Values kept per principal and dimension; a principal with more is treated as "anything goes" there. */
const MAX_VALUES = 500;
const MAX_PRINCIPALS = 50_000;

export const DIMENSIONS = ['actions', 'namespaces', 'sourceIPs', 'userAgents'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface PrincipalProfile {
  events: number;
  /** "verb resource", e.g. "create pods/exec". */
  actions: string[];
  namespaces: string[];
  sourceIPs: string[];
  userAgents: string[];
  /** UTC hours (0-23) the principal was active in. */
  hours: number[];
  /** Dimensions that had more than MAX_VALUES values: not checked. */
  saturated?: Dimension[];
}

export interface BaselineProfile {
  kind: typeof BASELINE_KIND;
  version: number;
  learnedFrom: { from: string; to: string; events: number; sources: string[] };
  totals: { events: number; denied: number; byVerb: Record<string, number> };
  principals: Record<string, PrincipalProfile>;
}

/** The comparable facts of one event. */
export interface Observation {
  user: string;
  action: string;
  namespace: string | undefined;
  sourceIP: string | undefined;
  userAgent: string | undefined;
  hour: number | undefined;
}

/** "kubectl/v1.29.4 (linux/amd64) kubernetes/abc" → "kubectl": versions change on every upgrade. */
export function userAgentProduct(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  const end = userAgent.search(/[/ ]/);
  return (end < 0 ? userAgent : userAgent.slice(0, end)).slice(0, 100);
}

export function hourOf(time: string | undefined): number | undefined {
  if (!time || time.charCodeAt(10) !== 84 /* T */) return undefined;
  const hour = Number(time.slice(11, 13));
  return Number.isInteger(hour) ? hour : undefined;
}

export function observe(event: AuditEvent, user: string, verb: string, resource: string, time: string | undefined): Observation {
  return {
    user,
    action: `${verb} ${resource}`,
    namespace: event.objectRef?.namespace,
    sourceIP: event.sourceIPs?.[0],
    userAgent: userAgentProduct(event.userAgent),
    hour: hourOf(time),
  };
}

interface Learning {
  events: number;
  sets: Record<Dimension, Set<string>>;
  hours: Set<number>;
  saturated: Set<Dimension>;
}

export class BaselineLearner {
  private readonly principals = new Map<string, Learning>();
  private readonly verbs = new CappedCounter();
  private events = 0;
  private denied = 0;

  add(observation: Observation, code: number | undefined): void {
    this.events++;
    this.verbs.add(observation.action.slice(0, observation.action.indexOf(' ')));
    if (code === 401 || code === 403) this.denied++;
    let learning = this.principals.get(observation.user);
    if (!learning) {
      if (this.principals.size >= MAX_PRINCIPALS) return;
      learning = { events: 0, sets: { actions: new Set(), namespaces: new Set(), sourceIPs: new Set(), userAgents: new Set() }, hours: new Set(), saturated: new Set() };
      this.principals.set(observation.user, learning);
    }
    learning.events++;
    for (const [dimension, value] of valuesOf(observation)) {
      if (value === undefined || learning.saturated.has(dimension)) continue;
      const set = learning.sets[dimension];
      if (set.has(value)) continue;
      if (set.size >= MAX_VALUES) {
        learning.saturated.add(dimension);
        set.clear();
      } else set.add(value);
    }
    if (observation.hour !== undefined) learning.hours.add(observation.hour);
  }

  profile(period: { from?: string; to?: string; sources: string[] }): BaselineProfile {
    const principals: Record<string, PrincipalProfile> = {};
    for (const [user, learning] of [...this.principals].sort((a, b) => a[0].localeCompare(b[0]))) {
      const profile: PrincipalProfile = {
        events: learning.events,
        actions: [...learning.sets.actions].sort(),
        namespaces: [...learning.sets.namespaces].sort(),
        sourceIPs: [...learning.sets.sourceIPs].sort(),
        userAgents: [...learning.sets.userAgents].sort(),
        hours: [...learning.hours].sort((a, b) => a - b),
      };
      if (learning.saturated.size) profile.saturated = [...learning.saturated].sort();
      principals[user] = profile;
    }
    return {
      kind: BASELINE_KIND,
      version: BASELINE_VERSION,
      learnedFrom: { from: period.from ?? '', to: period.to ?? '', events: this.events, sources: period.sources },
      totals: { events: this.events, denied: this.denied, byVerb: Object.fromEntries(this.verbs.counts) },
      principals,
    };
  }
}

function valuesOf(observation: Observation): [Dimension, string | undefined][] {
  return [
    ['actions', observation.action],
    ['namespaces', observation.namespace],
    ['sourceIPs', observation.sourceIP],
    ['userAgents', observation.userAgent],
  ];
}

export async function readBaseline(file: string): Promise<BaselineProfile> {
  let profile: BaselineProfile;
  try {
    profile = JSON.parse(await readFile(file, 'utf8')) as BaselineProfile;
  } catch (error) {
    throw new InputFailure(`${file}: cannot read baseline (${errorMessage(error)})`);
  }
  if (profile?.kind !== BASELINE_KIND || typeof profile.version !== 'number' || profile.version > BASELINE_VERSION || typeof profile.principals !== 'object') {
    throw new InputFailure(`${file}: not a kscan audit baseline (write one with kscan audit baseline --learn)`);
  }
  return profile;
}

// ---------------------------------------------------------------------------------------------
// Novelty: what a principal does that its profile never showed.

const MITRE_VALID_ACCOUNTS = { mitre: ['T1078'] };

export const NOVELTY_CHECKS = {
  principal: { id: 'KS-AUD-101', title: 'Principal not seen in the baseline', severity: 'low', category: 'audit', remediation: 'Confirm who or what this principal is; if it is expected, learn a new baseline.', controls: MITRE_VALID_ACCOUNTS },
  actions: { id: 'KS-AUD-102', title: 'Principal performed an action it never performed before', severity: 'medium', category: 'audit', remediation: 'Check whether the principal should do this; a service account acting outside its routine may be compromised.', controls: { mitre: ['T1078', 'T1613'] } },
  namespaces: { id: 'KS-AUD-103', title: 'Principal worked in a namespace it never touched before', severity: 'low', category: 'audit', remediation: 'Confirm the principal is expected in this namespace; narrow its RoleBindings otherwise.', controls: MITRE_VALID_ACCOUNTS },
  sourceIPs: { id: 'KS-AUD-104', title: 'Principal called the API from a new source address', severity: 'medium', category: 'audit', remediation: 'Check where the credentials were used from; rotate them if the address is not yours.', controls: { mitre: ['T1078', 'T1528'] } },
  userAgents: { id: 'KS-AUD-105', title: 'Principal used a new client', severity: 'low', category: 'audit', remediation: 'A service account token used from kubectl or curl instead of its workload may have been stolen; rotate it if so.', controls: { mitre: ['T1078', 'T1528'] } },
  hours: { id: 'KS-AUD-106', title: 'Principal active at an unusual hour', severity: 'info', category: 'audit', remediation: 'Confirm the activity was planned.', controls: MITRE_VALID_ACCOUNTS },
} satisfies Record<string, FindingSource>;

export type NoveltyKind = keyof typeof NOVELTY_CHECKS;

export interface Novelty {
  kind: NoveltyKind;
  /** The new value ("create pods/exec", "10.1.2.3", "03:00 UTC"). */
  value: string;
}

/** Indexes a profile into sets once, so each event is a few lookups. */
export class NoveltyDetector {
  private readonly principals = new Map<string, { sets: Record<Dimension, Set<string> | undefined>; hours: Set<number> }>();

  constructor(readonly profile: BaselineProfile) {
    for (const [user, p] of Object.entries(profile.principals)) {
      const saturated = new Set(p.saturated ?? []);
      const sets = Object.fromEntries(DIMENSIONS.map((d) => [d, saturated.has(d) ? undefined : new Set(p[d] ?? [])])) as Record<Dimension, Set<string> | undefined>;
      this.principals.set(user, { sets, hours: new Set(p.hours ?? []) });
    }
  }

  knows(user: string): boolean {
    return this.principals.has(user);
  }

  get size(): number {
    return this.principals.size;
  }

  novelties(observation: Observation): Novelty[] {
    const known = this.principals.get(observation.user);
    if (!known) return [{ kind: 'principal', value: observation.user }];
    let out: Novelty[] | undefined;
    for (const [dimension, value] of valuesOf(observation)) {
      const set = known.sets[dimension];
      if (value !== undefined && set && !set.has(value)) (out ??= []).push({ kind: dimension, value });
    }
    // An hour is unusual only for principals with a routine (a few hours of the day at most).
    if (observation.hour !== undefined && known.hours.size > 0 && known.hours.size <= 16 && !known.hours.has(observation.hour)) {
      (out ??= []).push({ kind: 'hours', value: `${String(observation.hour).padStart(2, '0')}:00 UTC` });
    }
    return out ?? [];
  }
}
