// Counters for the audit summary: time range, counts by verb, resource, user, source IP and
// response code, denied requests by principal, and per-principal first/last seen. Every map is
// capped so memory stays flat however many distinct values a log holds.
import type { InputError } from '../model/types.js';
import type { AuditEvent } from './event.js';

/** The typed audit part of a scan result (ScanResult.audit); schemas/result.schema.json describes it. */
export interface AuditReport {
  sources: string[];
  lines: number;
  /** Events read (all stages). */
  events: number;
  /** Events analysed: one per request (ResponseComplete or Panic, or events without a stage). */
  analysed: number;
  /** RequestReceived / ResponseStarted stages, left out so that a request counts once. */
  otherStages: number;
  malformed: number;
  unsupported: number;
  /** Events whose time is earlier than an event read before them. */
  outOfOrder: number;
  problems: InputError[];
  problemCount: number;
  timeRange: { from: string; to: string } | null;
  /** Distinct principals (users and service accounts). */
  principals: number;
  byVerb: AuditCount[];
  byResource: AuditCount[];
  byUser: AuditCount[];
  bySourceIP: AuditCount[];
  byResponseCode: AuditCount[];
  /** 401 and 403 answers by principal. */
  denied: AuditCount[];
  topPrincipals: PrincipalSummary[];
  /** Principals whose first event is the latest; with a baseline, only those the baseline never saw. */
  firstSeen: PrincipalSummary[];
  rules: { id: string; candidates: number; matched: number; findings: number }[];
  baseline?: { file: string; learnedFrom: { from: string; to: string }; principals: number; newPrincipals: number };
  /** Rates against the period the baseline was learned from. */
  comparison?: { metric: string; previousPerHour: number; currentPerHour: number; changePercent: number | null }[];
}

export interface AuditCount {
  key: string;
  count: number;
}

export interface PrincipalSummary {
  user: string;
  events: number;
  denied: number;
  firstSeen: string;
  lastSeen: string;
  isNew?: boolean;
}

const MAX_KEYS = 5000;
const OTHER = '(other values)';
const MAX_PRINCIPALS = 20_000;

/** A counter that folds values past its capacity into one "(other values)" bucket. */
export class CappedCounter<K extends string | number = string> {
  // Boxed counts: a count goes up with one map lookup instead of a get and a set.
  private readonly boxes = new Map<K | typeof OTHER, { count: number }>();
  constructor(private readonly capacity = MAX_KEYS) {}

  add(key: K, by = 1): void {
    const box = this.boxes.get(key);
    if (box !== undefined) box.count += by;
    else if (this.boxes.size < this.capacity) this.boxes.set(key, { count: by });
    else {
      const other = this.boxes.get(OTHER);
      if (other) other.count += by;
      else this.boxes.set(OTHER, { count: by });
    }
  }

  /** The counts by value (a copy). */
  get counts(): Map<K | typeof OTHER, number> {
    return new Map([...this.boxes].map(([key, box]) => [key, box.count]));
  }

  top(n: number): AuditCount[] {
    return topCounts([...this.boxes].map(([key, box]) => ({ key: String(key), count: box.count })), n);
  }
}

const topCounts = (counts: AuditCount[], n: number) => counts.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)).slice(0, n);

interface PrincipalStats {
  events: number;
  denied: number;
  first: string;
  last: string;
}

export class AuditSummary {
  readonly verbs = new CappedCounter();
  readonly resources = new CappedCounter();
  readonly sourceIPs = new CappedCounter();
  /** By response code; 0 for none. */
  readonly codes = new CappedCounter<number>();
  /** Per principal (events, denied, first and last seen): also the counts by user and the denials. */
  readonly principals = new Map<string, PrincipalStats>();
  /** Events and denials of principals past MAX_PRINCIPALS. */
  private readonly otherPrincipals = { events: 0, denied: 0 };
  deniedTotal = 0;
  from: string | undefined;
  to: string | undefined;
  outOfOrder = 0;

  add(event: AuditEvent, time: string | undefined, user: string, verb: string, resource: string, responseCode = event.responseStatus?.code): void {
    const code = typeof responseCode === 'number' ? responseCode : 0;
    const sourceIP = event.sourceIPs?.[0] ?? '(none)';
    this.verbs.add(verb);
    this.resources.add(resource);
    this.sourceIPs.add(sourceIP);
    this.codes.add(code);
    const denied = code === 401 || code === 403;
    if (denied) this.deniedTotal++;
    if (time) {
      // `to` is the latest time so far: an earlier one is out of order (the same instant written
      // with another precision is not).
      if (this.to === undefined || time >= this.to) this.to = time;
      else if (sameLayout(time, this.to) || Date.parse(time) < Date.parse(this.to)) this.outOfOrder++;
      if (this.from === undefined || time < this.from) this.from = time;
    }
    const stats = this.principals.get(user);
    if (stats) {
      stats.events++;
      if (denied) stats.denied++;
      if (time && time < stats.first) stats.first = time;
      if (time && time > stats.last) stats.last = time;
    } else if (this.principals.size < MAX_PRINCIPALS) {
      this.principals.set(user, { events: 1, denied: denied ? 1 : 0, first: time ?? '', last: time ?? '' });
    } else {
      this.otherPrincipals.events++;
      if (denied) this.otherPrincipals.denied++;
    }
  }

  byUser(n: number): AuditCount[] {
    return this.principalCounts('events', n);
  }

  /** 401 and 403 answers by principal. */
  denied(n: number): AuditCount[] {
    return this.principalCounts('denied', n);
  }

  byResponseCode(n: number): AuditCount[] {
    return this.codes.top(n).map((c) => (c.key === '0' ? { ...c, key: '(none)' } : c));
  }

  private principalCounts(field: 'events' | 'denied', n: number): AuditCount[] {
    const counts: AuditCount[] = [];
    for (const [user, stats] of this.principals) if (stats[field]) counts.push({ key: user, count: stats[field] });
    if (this.otherPrincipals[field]) counts.push({ key: OTHER, count: this.otherPrincipals[field] });
    return topCounts(counts, n);
  }

  topPrincipals(n: number): PrincipalSummary[] {
    return [...this.principals]
      .sort((a, b) => b[1].events - a[1].events || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([user, s]) => principalSummary(user, s));
  }

  /** The principals that appeared last (or, with `isKnown`, the ones the baseline does not know). */
  firstSeen(n: number, isKnown?: (user: string) => boolean): PrincipalSummary[] {
    return [...this.principals]
      .filter(([user]) => !isKnown || !isKnown(user))
      .sort((a, b) => b[1].first.localeCompare(a[1].first) || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([user, s]) => ({ ...principalSummary(user, s), ...(isKnown ? { isNew: true } : {}) }));
  }
}

/**
 * Two UTC times of the same length (the API server writes RFC 3339 with a fixed number of digits)
 * compare as text, without Date.parse: fields have fixed widths, so the text order is the time order.
 */
function sameLayout(a: string, b: string): boolean {
  return a.length === b.length && a.charCodeAt(a.length - 1) === 90 /* Z */ && b.charCodeAt(b.length - 1) === 90;
}

function principalSummary(user: string, s: PrincipalStats): PrincipalSummary {
  return { user, events: s.events, denied: s.denied, firstSeen: s.first, lastSeen: s.last };
}

/** Hours between two RFC 3339 times, at least one minute so that rates stay finite. */
export function hoursBetween(from: string | undefined, to: string | undefined): number {
  if (!from || !to) return 1 / 60;
  return Math.max(Date.parse(to) - Date.parse(from), 60_000) / 3_600_000;
}
