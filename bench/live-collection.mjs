// Benchmark of live collection: 10,000 realistic objects (pods, deployments, configmaps, services
// across 50 namespaces) served by the fixture API server over TLS, collected with collectLive
// 3 times. Run after `npx tsc -p .`:  node bench/live-collection.mjs [objects]
// Prints one JSON document with wall times, throughput and peak RSS.
import { performance } from 'node:perf_hooks';
import { startFixtureApiServer } from '../dist/test/support/api-server.js';
import { collectLive } from '../dist/src/collect/live.js';

const TOTAL = Number(process.argv[2] ?? 10_000);
const NAMESPACES = 50;
const RUNS = 3;

function labels(app, ns) {
  return { 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': ns, 'app.kubernetes.io/managed-by': 'Helm', tier: 'backend' };
}

function meta(kind, name, ns, i) {
  return {
    name,
    namespace: ns,
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    creationTimestamp: '2024-05-01T10:00:00Z',
    labels: labels(name.replace(/-[a-z0-9]+-[a-z0-9]+$/, ''), ns),
    annotations: { 'meta.helm.sh/release-name': ns, 'meta.helm.sh/release-namespace': ns },
    managedFields: [{ manager: 'helm', operation: 'Update', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': {} }, 'f:spec': {} } }],
  };
}

function podSpec(app, i) {
  return {
    serviceAccountName: app,
    automountServiceAccountToken: i % 3 !== 0,
    hostNetwork: i % 97 === 0,
    securityContext: i % 4 === 0 ? {} : { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: app,
        image: `registry.example.com/${app}:1.${i % 20}.${i % 7}`,
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: `${app}-db`, key: 'password' } } }],
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: i % 5 === 0 ? {} : { cpu: '500m', memory: '512Mi' } },
        securityContext: { privileged: i % 53 === 0, allowPrivilegeEscalation: i % 6 === 0, readOnlyRootFilesystem: i % 2 === 0, capabilities: { drop: ['ALL'] } },
        livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
        volumeMounts: [{ name: 'config', mountPath: '/etc/app' }],
      },
      ...(i % 4 === 0 ? [{ name: 'proxy', image: 'envoyproxy/envoy:v1.29.1', resources: { requests: { cpu: '50m', memory: '64Mi' } } }] : []),
    ],
    volumes: [{ name: 'config', configMap: { name: `${app}-config` } }, ...(i % 89 === 0 ? [{ name: 'host', hostPath: { path: '/var/run/docker.sock' } }] : [])],
    nodeName: `node-${i % 30}`,
  };
}

function buildObjects(total = TOTAL) {
  const objects = [];
  const perNs = Math.ceil(total / NAMESPACES);
  for (let n = 0; n < NAMESPACES && objects.length < total; n++) {
    const ns = `team-${String(n).padStart(2, '0')}`;
    // per namespace: deployments, services and configmaps for each app, 3 pods per deployment
    for (let a = 0; objects.length < total && a < perNs; a++) {
      const app = `svc-${a}`;
      const i = n * 1000 + a;
      const kinds = [
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('Deployment', app, ns, i * 10), spec: { replicas: 3, selector: { matchLabels: { 'app.kubernetes.io/name': app } }, template: { metadata: { labels: labels(app, ns) }, spec: podSpec(app, i) } }, status: { replicas: 3, readyReplicas: 3 } },
        { apiVersion: 'v1', kind: 'Service', metadata: meta('Service', app, ns, i * 10 + 1), spec: { type: i % 11 === 0 ? 'NodePort' : 'ClusterIP', selector: { 'app.kubernetes.io/name': app }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], clusterIP: `10.96.${n}.${a % 250}` } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('ConfigMap', `${app}-config`, ns, i * 10 + 2), data: { 'app.yaml': `server:\n  port: 8080\n  name: ${app}\nfeatures:\n  audit: true\n`, LOG_LEVEL: 'info' } },
      ];
      for (let p = 0; p < 3; p++) {
        kinds.push({
          apiVersion: 'v1', kind: 'Pod', metadata: { ...meta('Pod', `${app}-7d9f8c6b5-${p}x${a}`, ns, i * 10 + 3 + p), ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7d9f8c6b5`, uid: `rs-${i}`, controller: true }] },
          spec: podSpec(app, i), status: { phase: 'Running', podIP: `10.244.${n}.${(a * 3 + p) % 250}`, hostIP: `192.168.0.${i % 30}`, conditions: [{ type: 'Ready', status: 'True' }] },
        });
      }
      for (const o of kinds) if (objects.length < total) objects.push(o);
    }
  }
  return objects;
}

async function main() {
  const objects = buildObjects();
  const server = await startFixtureApiServer({ objects });
  try {
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const start = performance.now();
      const collection = await collectLive({ kubeconfig: server.kubeconfigPath });
      const ms = performance.now() - start;
      const collected = collection.objects.length;
      if (collected !== objects.length) throw new Error(`collected ${collected} objects, expected ${objects.length}`);
      runs.push({ ms: Math.round(ms), objects: collected, objectsPerSecond: Math.round(collected / (ms / 1000)) });
    }
    const best = Math.min(...runs.map((x) => x.ms));
    const median = runs.map((x) => x.ms).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
    const listRequests = server.requests.filter((q) => q.query.limit).length / RUNS;
    console.log(JSON.stringify({
      benchmark: 'live-collection', node: process.version, objects: objects.length, namespaces: NAMESPACES,
      requestsPerRun: server.requests.length / RUNS, listRequestsPerRun: listRequests,
      runs, bestMs: best, medianMs: median, objectsPerSecond: Math.round(objects.length / (median / 1000)),
      // This process holds the fixture server's copy of the objects as well as the collection.
      maxRssKiB: process.resourceUsage().maxRSS,
    }, null, 2));
  } finally {
    await server.close();
  }
}

await main();
