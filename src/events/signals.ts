// Warning Events as findings, for watch mode's sinks. Each Warning is classified into a signal
// (admission rejections, evictions, crash loops, image pulls, ...) and folded onto the workload it
// is about, as the cluster report's summary does (src/events/summary.ts): one finding per signal,
// workload and reason, open while a matching Warning Event exists (the API server deletes events
// after its --event-ttl, an hour by default), so sinks get `opened` when a workload starts to
// warn and `resolved` once it has stopped. Findings go through the same routes, thresholds and
// outbox as check findings; the signal id is their checkId.
import type { Finding, K8sObject, Severity } from '../model/types.js';
import type { Inventory } from '../inventory/inventory.js';
import { makeFinding } from '../findings/finding.js';
import { distinctEvents, workloadOf, type NormalizedEvent } from './summary.js';

export interface EventSignal {
  id: string;
  title: string;
  severity: Severity;
  remediation: string;
  /** Which Warnings, in words (for the check catalogue). */
  covers: string;
  /** Whether a Warning belongs to this signal: by reason, and for some by what its message says. */
  matches(event: NormalizedEvent): boolean;
}

const reasonIn = (...reasons: string[]) => (event: NormalizedEvent) => reasons.includes(event.reason);
// Plain substring tests: event messages are arbitrary text, no regular expression runs on them.
const says = (event: NormalizedEvent, ...phrases: string[]) => phrases.some((phrase) => event.message.includes(phrase));

/** In order: the first signal that matches a Warning wins; the last matches every Warning. */
export const EVENT_SIGNALS: EventSignal[] = [
  {
    id: 'KS-EV-001',
    covers: 'reason FailedCreate* whose message says `violates PodSecurity`, `admission webhook`, `ValidatingAdmissionPolicy` or `denied the request`',
    title: 'Pod creation rejected by Pod Security admission or a policy webhook',
    severity: 'high',
    remediation: 'A controller keeps trying to create pods that an admission policy forbids: fix the pod template, or review whether the policy or the workload changed without review.',
    matches: (event) => event.reason.startsWith('FailedCreate') && says(event, 'violates PodSecurity', 'admission webhook', 'ValidatingAdmissionPolicy', 'denied the request'),
  },
  {
    id: 'KS-EV-002',
    covers: 'reasons Evicted, OOMKilling, SystemOOM, Preempted, Killing, EvictionThresholdMet',
    title: 'Pods evicted, preempted or killed for lack of memory',
    severity: 'medium',
    remediation: 'Set memory requests and limits that match the workload, and check the node for memory or disk pressure.',
    matches: reasonIn('Evicted', 'OOMKilling', 'SystemOOM', 'Preempted', 'Killing', 'EvictionThresholdMet'),
  },
  {
    id: 'KS-EV-003',
    covers: 'reasons ErrImagePull, ImagePullBackOff, InspectFailed, ErrImageNeverPull; Failed or BackOff about pulling an image',
    title: 'Image pull failing',
    severity: 'medium',
    remediation: 'Check that the image reference (preferably a digest) exists in the registry and that the pull secret is valid; an image that disappeared or changed can mean a tampered registry.',
    matches: (event) => reasonIn('ErrImagePull', 'ImagePullBackOff', 'InspectFailed', 'ErrImageNeverPull')(event) || ((event.reason === 'Failed' || event.reason === 'BackOff') && says(event, 'pull', 'image')),
  },
  {
    id: 'KS-EV-004',
    covers: 'reasons BackOff, CrashLoopBackOff, Failed (not about an image)',
    title: 'Container crash-looping',
    severity: 'medium',
    remediation: 'Read the container logs of the previous run (kubectl logs --previous) and fix the cause of the restarts.',
    matches: reasonIn('BackOff', 'CrashLoopBackOff', 'Failed'),
  },
  {
    id: 'KS-EV-005',
    covers: 'reasons FailedMount, FailedAttachVolume, FailedMapVolume, VolumeResizeFailed',
    title: 'Volume cannot be attached or mounted',
    severity: 'low',
    remediation: 'Check the referenced Secret, ConfigMap or PersistentVolumeClaim exists and that the storage driver is healthy.',
    matches: reasonIn('FailedMount', 'FailedAttachVolume', 'FailedMapVolume', 'VolumeResizeFailed'),
  },
  {
    id: 'KS-EV-006',
    covers: 'reasons FailedScheduling, NotTriggerScaleUp',
    title: 'Pod cannot be scheduled',
    severity: 'low',
    remediation: 'Check resource requests, node selectors, taints and affinity against the nodes available.',
    matches: reasonIn('FailedScheduling', 'NotTriggerScaleUp'),
  },
  {
    id: 'KS-EV-007',
    covers: 'reasons Unhealthy, ProbeWarning',
    title: 'Probe failing',
    severity: 'low',
    remediation: 'Check the liveness and readiness probes against what the container serves and how long it takes to start.',
    matches: reasonIn('Unhealthy', 'ProbeWarning'),
  },
  {
    id: 'KS-EV-008',
    covers: 'every other Warning',
    title: 'Other Warning event',
    severity: 'info',
    remediation: 'Read the event message (kubectl get events --field-selector type=Warning) and act on its cause.',
    matches: () => true,
  },
];

export const EVENT_SIGNAL_IDS = new Set(EVENT_SIGNALS.map((signal) => signal.id));

export interface SignalOptions {
  /** Only Warnings with these reasons (default all). */
  reasons?: string[];
  excludeReasons?: string[];
  /** A workload's warnings of one reason must have happened this many times (default 1). */
  minOccurrences?: number;
}

/** API versions of the kinds an event is folded onto, for when the object itself is gone. */
const WORKLOAD_API_VERSIONS: Record<string, string> = { Deployment: 'apps/v1', ReplicaSet: 'apps/v1', StatefulSet: 'apps/v1', DaemonSet: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1', Pod: 'v1', Node: 'v1' };

interface Group {
  signal: EventSignal;
  workload: K8sObject;
  reason: string;
  occurrences: number;
  latest: NormalizedEvent;
}

/** The open Warning findings, by fingerprint, for the Event objects given. */
export function warningFindings(events: Iterable<K8sObject>, inventory: Inventory, options: SignalOptions = {}): Map<string, Finding> {
  const groups = new Map<string, Group>();
  for (const event of distinctEvents(events)) {
    if (event.type !== 'Warning') continue;
    if (options.reasons && !options.reasons.includes(event.reason)) continue;
    if (options.excludeReasons?.includes(event.reason)) continue;
    const signal = EVENT_SIGNALS.find((s) => s.matches(event))!;
    const { kind, name } = workloadOf(inventory, event.target);
    const namespace = event.target.namespace ?? (event.namespace || undefined);
    const apiVersion = inventory.get(kind, namespace, name)?.object.apiVersion ?? WORKLOAD_API_VERSIONS[kind] ?? (kind === event.target.kind ? event.target.apiVersion : undefined) ?? 'v1';
    const key = [signal.id, kind, namespace ?? '', name, event.reason].join('\u0000');
    const group = groups.get(key);
    if (!group) {
      const workload = { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } } as K8sObject;
      groups.set(key, { signal, workload, reason: event.reason, occurrences: event.occurrences, latest: event });
    } else {
      group.occurrences += event.occurrences;
      if (event.lastSeen > group.latest.lastSeen) group.latest = event;
    }
  }
  const findings = new Map<string, Finding>();
  for (const { signal, workload, reason, occurrences, latest } of groups.values()) {
    if (occurrences < (options.minOccurrences ?? 1)) continue;
    const on = latest.target.kind === workload.kind && latest.target.name === workload.metadata.name ? '' : ` on ${latest.target.kind} ${latest.target.name}`;
    const message = `${reason} (${occurrences} time${occurrences === 1 ? '' : 's'}, last ${latest.lastSeen || 'unknown'})${on}: ${latest.message}`;
    // The reason is the path: a workload that is both crash-looping and failing probes has two findings.
    const finding = makeFinding({ id: signal.id, title: signal.title, severity: signal.severity, category: 'Kubernetes events', remediation: signal.remediation, controls: {} }, workload, `reason=${reason}`, message);
    findings.set(finding.fingerprint, finding);
  }
  return findings;
}
