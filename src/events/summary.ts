// Kubernetes Events (core/v1 and events.k8s.io/v1): Warning events summarized by reason, namespace
// and workload. An event about a Pod is put on the workload that owns it (Pod → ReplicaSet →
// Deployment through the inventory's owner graph), also when the pod itself is already gone
// (evicted, rescheduled): its name then leads to the ReplicaSet, Job or StatefulSet.
import type { K8sObject } from '../model/types.js';
import type { Inventory } from '../inventory/inventory.js';

export interface EventReasonCount {
  reason: string;
  /** Distinct Event objects. */
  events: number;
  /** Times they happened (an Event's count / series.count). */
  occurrences: number;
}

export interface WorkloadWarnings {
  namespace: string;
  kind: string;
  name: string;
  reason: string;
  occurrences: number;
  lastSeen: string;
  /** The latest event's message, shortened. */
  message: string;
}

/** The typed events part of a scan result (ScanResult.events); schemas/result.schema.json describes it. */
export interface EventsReport {
  /** Event objects read (core/v1 and events.k8s.io/v1, the same event counted once). */
  events: number;
  warnings: number;
  warningOccurrences: number;
  byReason: EventReasonCount[];
  byNamespace: { namespace: string; warnings: number; occurrences: number; topReason: string }[];
  byWorkload: WorkloadWarnings[];
  /** Against the previous scan of the same target recorded with --history. */
  trend?: { previousScannedAt: string; byReason: { reason: string; previous: number; current: number; change: number }[] };
}

/** Rows kept in the workload table. */
const MAX_WORKLOAD_ROWS = 50;
const MAX_MESSAGE = 200;

export const isEventObject = (object: K8sObject): boolean => object.kind === 'Event' && (object.apiVersion === 'v1' || object.apiVersion.startsWith('events.k8s.io/'));

export interface NormalizedEvent {
  type: string;
  reason: string;
  namespace: string;
  target: { apiVersion?: string; kind: string; namespace?: string; name: string };
  occurrences: number;
  lastSeen: string;
  message: string;
}

type Json = Record<string, unknown>;
const str = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && value > 0 ? value : undefined);

/** Both API shapes as one: core/v1 (involvedObject, count, message) and events.k8s.io/v1 (regarding, series, note). */
function normalizeEvent(object: K8sObject): NormalizedEvent {
  const o = object as unknown as Json;
  const modern = object.apiVersion.startsWith('events.k8s.io/');
  const ref = ((modern ? o.regarding : o.involvedObject) ?? {}) as Json;
  const series = (o.series ?? {}) as Json;
  return {
    type: str(o.type) ?? 'Normal',
    reason: str(o.reason) ?? '(none)',
    namespace: object.metadata?.namespace ?? str(ref.namespace) ?? '',
    target: { apiVersion: str(ref.apiVersion), kind: str(ref.kind) ?? '(unknown)', namespace: str(ref.namespace) ?? object.metadata?.namespace, name: str(ref.name) ?? '' },
    occurrences: num(series.count) ?? num(modern ? o.deprecatedCount : o.count) ?? 1,
    lastSeen:
      str(series.lastObservedTime) ?? str(modern ? o.deprecatedLastTimestamp : o.lastTimestamp) ?? str(o.eventTime) ?? str(modern ? o.deprecatedFirstTimestamp : o.firstTimestamp) ?? str(object.metadata?.creationTimestamp) ?? '',
    message: (str(modern ? o.note : o.message) ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_MESSAGE),
  };
}

// Pods named by their controller: <replicaset>-<5 chars>, <job>-<5 chars>, <statefulset>-<ordinal>,
// <daemonset>-<5 chars>; when the ReplicaSet or Job is gone too, <deployment>-<hash>-<5 chars> and
// <cronjob>-<scheduled minute>-<5 chars>. The suffix alphabet is Kubernetes' rand.SafeEncodeString.
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const OWNER_KINDS_BY_SUFFIX: [RegExp, string[]][] = [
  [new RegExp(`-${SAFE}{5}$`), ['ReplicaSet', 'Job', 'DaemonSet']],
  [/-\d+$/, ['StatefulSet']],
  [new RegExp(`-${SAFE}{6,10}-${SAFE}{5}$`), ['Deployment']],
  [new RegExp(`-\\d{8,}-${SAFE}{5}$`), ['CronJob']],
];

/** The workload an event is about: the top owner of its object, found by name when the object is gone. */
export function workloadOf(inventory: Inventory, target: NormalizedEvent['target']): { kind: string; name: string } {
  const found = inventory.get(target.kind, target.namespace, target.name)?.object;
  if (found) {
    const top = inventory.topOwner(found);
    // A static pod's mirror is owned by its Node; the pod itself is the workload.
    return top.kind === 'Node' && found.kind !== 'Node' ? { kind: found.kind, name: target.name } : { kind: top.kind, name: top.metadata.name ?? '' };
  }
  if (target.kind === 'Pod') {
    for (const [suffix, kinds] of OWNER_KINDS_BY_SUFFIX) {
      if (!suffix.test(target.name)) continue;
      const ownerName = target.name.replace(suffix, '');
      for (const kind of kinds) {
        const owner = inventory.get(kind, target.namespace, ownerName)?.object;
        if (owner) {
          const top = inventory.topOwner(owner);
          return { kind: top.kind, name: top.metadata.name ?? '' };
        }
      }
    }
  }
  return { kind: target.kind, name: target.name };
}

/** The Event objects among these, normalized; events.k8s.io/v1 and core/v1 serve the same stored events, so each uid once. */
export function* distinctEvents(objects: Iterable<K8sObject>): Generator<NormalizedEvent> {
  const seen = new Set<string>();
  for (const object of objects) {
    if (!isEventObject(object)) continue;
    const id = object.metadata?.uid ?? `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    if (seen.has(id)) continue;
    seen.add(id);
    yield normalizeEvent(object);
  }
}

export function summarizeEvents(objects: K8sObject[], inventory: Inventory): EventsReport {
  const reasons = new Map<string, EventReasonCount>();
  const namespaces = new Map<string, { warnings: number; occurrences: number; reasons: Map<string, number> }>();
  const workloads = new Map<string, WorkloadWarnings>();
  let events = 0;
  let warnings = 0;
  let warningOccurrences = 0;
  for (const event of distinctEvents(objects)) {
    events++;
    if (event.type !== 'Warning') continue;
    warnings++;
    warningOccurrences += event.occurrences;
    const reason = reasons.get(event.reason) ?? { reason: event.reason, events: 0, occurrences: 0 };
    reason.events++;
    reason.occurrences += event.occurrences;
    reasons.set(event.reason, reason);
    const ns = namespaces.get(event.namespace) ?? { warnings: 0, occurrences: 0, reasons: new Map<string, number>() };
    ns.warnings++;
    ns.occurrences += event.occurrences;
    ns.reasons.set(event.reason, (ns.reasons.get(event.reason) ?? 0) + event.occurrences);
    namespaces.set(event.namespace, ns);
    const workload = workloadOf(inventory, event.target);
    const key = `${event.namespace}\u0000${workload.kind}\u0000${workload.name}\u0000${event.reason}`;
    const row = workloads.get(key);
    if (!row) workloads.set(key, { namespace: event.namespace, ...workload, reason: event.reason, occurrences: event.occurrences, lastSeen: event.lastSeen, message: event.message });
    else {
      row.occurrences += event.occurrences;
      if (event.lastSeen > row.lastSeen) Object.assign(row, { lastSeen: event.lastSeen, message: event.message });
    }
  }
  const byOccurrences = <T extends { occurrences: number }>(a: T, b: T) => b.occurrences - a.occurrences;
  return {
    events,
    warnings,
    warningOccurrences,
    byReason: [...reasons.values()].sort((a, b) => byOccurrences(a, b) || a.reason.localeCompare(b.reason)),
    byNamespace: [...namespaces]
      .map(([namespace, n]) => ({ namespace, warnings: n.warnings, occurrences: n.occurrences, topReason: [...n.reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0][0] }))
      .sort((a, b) => byOccurrences(a, b) || a.namespace.localeCompare(b.namespace)),
    byWorkload: [...workloads.values()]
      .sort((a, b) => byOccurrences(a, b) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.reason.localeCompare(b.reason))
      .slice(0, MAX_WORKLOAD_ROWS),
  };
}
