// Helpers for the watch tests: a real HTTP receiver on 127.0.0.1 that records what it gets and
// answers as told, objects to create, and a poll-until helper.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { K8sObject } from '../../src/model/types.js';
import type { WatchEvent } from '../../src/watch/state.js';

export interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { schemaVersion?: string; events?: WatchEvent[]; blocks?: unknown[]; text?: string };
  /** Status answered (0 when the request was left hanging). */
  status: number;
}

export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  /** Events of the requests answered with 2xx, in arrival order. */
  accepted(): WatchEvent[];
  close(): Promise<void>;
}

export async function startReceiver(answer: (n: number) => Answer = () => ({ status: 200 })): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const entry: Received = { headers: req.headers, raw, body: JSON.parse(raw) as Received['body'], status: 0 };
      received.push(entry);
      const a = answer(received.length);
      if (a === 'hang') return;
      entry.status = a.status;
      res.writeHead(a.status, { 'Content-Type': 'text/plain', ...(a.headers ?? {}) });
      res.end(a.status < 300 ? 'ok' : 'error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300).flatMap((r) => r.body.events ?? []),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function namespace(name: string): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `ns-${name}`, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } };
}

/** A Deployment; `privileged` makes its container privileged (KS-WL-001, critical). */
export function deployment(ns: string, name: string, privileged: boolean): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, uid: `deploy-${ns}-${name}` },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{
            name: 'app',
            image: 'registry.example.com/app:1.2.3@sha256:' + 'a'.repeat(64),
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
            securityContext: { privileged, allowPrivilegeEscalation: privileged, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
          }],
        },
      },
    },
  };
}

export const PRIVILEGED = 'KS-WL-001';

/** The KS-WL-001 events about one deployment, in arrival order. */
export function privilegedEvents(events: WatchEvent[], ns: string, name: string): WatchEvent[] {
  return events.filter((e) => e.finding.checkId === PRIVILEGED && e.finding.object.kind === 'Deployment' && e.finding.object.namespace === ns && e.finding.object.name === name);
}

/** A ReplicaSet of the deployment (same pod template) and one of its pods, owned the way controllers own them. */
export function replicaSetAndPod(ns: string, deploymentName: string, hash: string, podSuffix: string): [K8sObject, K8sObject] {
  const template = (deployment(ns, deploymentName, false).spec as { template: { spec: unknown } }).template;
  const rsName = `${deploymentName}-${hash}`;
  const rs: K8sObject = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: { name: rsName, namespace: ns, uid: `rs-${ns}-${rsName}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName, uid: `deploy-${ns}-${deploymentName}`, controller: true }] },
    spec: { replicas: 1, selector: { matchLabels: { app: deploymentName } }, template },
  };
  const pod: K8sObject = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${rsName}-${podSuffix}`, namespace: ns, uid: `pod-${ns}-${rsName}-${podSuffix}`, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rs.metadata.uid!, controller: true }] },
    spec: template.spec as Record<string, unknown>,
  };
  return [rs, pod];
}

/** A core/v1 Event as the kubelet or a controller records it. */
export function kubeEvent(ns: string, name: string, type: 'Warning' | 'Normal', reason: string, involved: { kind: string; name: string; apiVersion?: string }, message: string, count = 1): K8sObject {
  const time = '2026-12-02T10:15:00Z';
  return {
    apiVersion: 'v1', kind: 'Event',
    metadata: { name, namespace: ns, uid: `event-${ns}-${name}` },
    involvedObject: { apiVersion: involved.apiVersion ?? 'v1', kind: involved.kind, name: involved.name, namespace: ns },
    type, reason, message, count,
    firstTimestamp: time, lastTimestamp: time,
    source: { component: involved.kind === 'Pod' ? 'kubelet' : 'replicaset-controller' },
  } as K8sObject;
}
