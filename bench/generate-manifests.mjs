#!/usr/bin/env node
// Deterministic generator of a realistic Kubernetes manifest corpus for the benchmarks.
//
//   node bench/generate-manifests.mjs [--objects N] [--files F] [--out dir] [--seed S] [--check] [--quiet]
//
// Defaults: 10,000 objects in 200 files (about 4 MB), written to bench/data/manifests-<N>/.
// The same arguments always produce byte-identical output (seeded PRNG, no clock, no Math.random).
//
// What the corpus looks like (the way kubectl, helm and people write YAML):
// - multi-document YAML files, each a "release": a workload (Deployment, StatefulSet, DaemonSet,
//   CronJob or Pod) with its Service (some NodePort), ServiceAccount, ConfigMap, and sometimes an
//   Ingress (some without TLS), Role + RoleBinding and NetworkPolicy, spread over 50 namespaces;
// - 2-space block style; about half the files use compact sequences (`containers:\n- name:`, as
//   kubectl writes) and the others indented ones (`  - name:`, as most helm charts write);
// - `# Source: chart/templates/x.yaml` headers, `---` separators, comments inside documents,
//   quoted strings, `|` block scalars in ConfigMaps, flow-style `{}` / `[]` where kubectl uses them;
// - a few JSON files (`kubectl get -o json` Lists) and one `kind: List` YAML file
//   (`kubectl get -o yaml`, keys sorted, with status and server-set metadata);
// - mixed posture: about half of the workloads are hardened (non-root, no privilege escalation,
//   drop ALL, limits, pinned images); the rest have one to three problems (privileged,
//   hostNetwork/PID/IPC, hostPath, hostPort, root user, added capabilities, no limits, latest tags).
//
// --check parses every written file back with js-yaml and compares it with the generated objects.
import { mulberry32 } from '../fixtures/lib/prng.mjs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Deterministic randomness


class Rng {
  constructor(seed) {
    this.next = mulberry32(seed);
  }
  chance(p) {
    return this.next() < p;
  }
  int(min, max) {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick(list) {
    return list[Math.floor(this.next() * list.length)];
  }
  weighted(entries) {
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [value, w] of entries) {
      if ((r -= w) < 0) return value;
    }
    return entries[entries.length - 1][0];
  }
  hex(length) {
    let s = '';
    for (let i = 0; i < length; i++) s += '0123456789abcdef'[Math.floor(this.next() * 16)];
    return s;
  }
  sample(list, count) {
    const copy = [...list];
    const out = [];
    while (out.length < count && copy.length) out.push(copy.splice(Math.floor(this.next() * copy.length), 1)[0]);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// YAML emitter with the style knobs real manifests vary on

const PLAIN_UNSAFE_START = /^[-?:,[\]{}#&*!|>'"%@`\s]/;
const LOOKS_TYPED = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N|[-+]?(?:\d[\d_]*)?\.?\d+(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|\d+:\d+(?::\d+)*|\d{4}-\d\d-\d\d.*)$/;

function needsQuotes(s) {
  return (
    s === '' ||
    PLAIN_UNSAFE_START.test(s) ||
    /\s$/.test(s) ||
    LOOKS_TYPED.test(s) ||
    s.includes(': ') ||
    s.includes(' #') ||
    s.endsWith(':') ||
    /[\t\n\r\u0000-\u001f\u007f-\u009f]/.test(s) ||
    /^(?:---|\.\.\.)/.test(s)
  );
}

/** Double-quoted YAML scalar; JSON escapes are valid YAML escapes for these strings. */
function dq(s) {
  return JSON.stringify(s);
}

function sq(s) {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * style: { compactSeq: boolean, quote: 'minimal' | 'double' | 'single', quoteValues: Set<string> }
 * quoteValues lists keys whose string values are always quoted (helm charts `| quote` these).
 */
class YamlWriter {
  constructor(style, rng) {
    this.style = style;
    this.rng = rng;
    this.lines = [];
  }

  scalar(value, key) {
    if (value === null) return 'null';
    if (typeof value === 'boolean' || typeof value === 'number') return String(value);
    const s = String(value);
    const forced = key !== undefined && this.style.quoteValues.has(key);
    if (needsQuotes(s) || forced || (this.style.quote !== 'minimal' && this.rng.chance(0.08))) {
      if (this.style.quote === 'single' && !/[\n\\]/.test(s) && !/[\u0000-\u001f]/.test(s)) return sq(s);
      return dq(s);
    }
    return s;
  }

  isBlockText(value) {
    return typeof value === 'string' && value.includes('\n') && !/^\s/.test(value) && !/[\u0000-\u0009\u000b-\u001f]/.test(value) && !/ \n|\n\n\n/.test(value) && !/\n$/.test(value.replace(/\n$/, ''));
  }

  blockText(value, indent) {
    const pad = ' '.repeat(indent);
    const header = value.endsWith('\n') ? '|' : '|-';
    const body = (value.endsWith('\n') ? value.slice(0, -1) : value).split('\n').map((l) => (l ? pad + l : ''));
    return { header, body };
  }

  key(k) {
    return needsQuotes(k) || /[{}[\],]/.test(k) ? dq(k) : k;
  }

  /** Emits a mapping's entries at `indent`; the first entry may continue the current line (after "- "). */
  map(obj, indent, firstPrefix) {
    const pad = ' '.repeat(indent);
    let first = true;
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const lead = first && firstPrefix !== undefined ? firstPrefix : pad;
      first = false;
      this.entry(lead, this.key(k), v, indent, k);
    }
    if (first) this.lines.push((firstPrefix ?? pad) + '{}');
  }

  entry(lead, key, v, indent, rawKey) {
    if (Array.isArray(v)) {
      if (v.length === 0) return this.lines.push(`${lead}${key}: []`);
      if (v.every((x) => typeof x !== 'object' || x === null) && v.length <= 4 && this.style.flowScalarLists && rawKey !== 'args' && rawKey !== 'command') {
        return this.lines.push(`${lead}${key}: [${v.map((x) => this.scalar(x)).join(', ')}]`);
      }
      this.lines.push(`${lead}${key}:`);
      this.seq(v, this.style.compactSeq ? indent : indent + 2);
    } else if (v !== null && typeof v === 'object') {
      if (Object.keys(v).length === 0) return this.lines.push(`${lead}${key}: {}`);
      this.lines.push(`${lead}${key}:`);
      this.map(v, indent + 2);
    } else if (this.isBlockText(v)) {
      const { header, body } = this.blockText(v, indent + 2);
      this.lines.push(`${lead}${key}: ${header}`, ...body);
    } else {
      this.lines.push(`${lead}${key}: ${this.scalar(v, rawKey)}`);
    }
  }

  seq(list, indent) {
    const pad = ' '.repeat(indent);
    for (const item of list) {
      if (Array.isArray(item)) throw new Error('nested sequences are not generated');
      if (item !== null && typeof item === 'object') {
        if (Object.keys(item).length === 0) this.lines.push(`${pad}- {}`);
        else this.map(item, indent + 2, `${pad}- `);
      } else {
        this.lines.push(`${pad}- ${this.scalar(item)}`);
      }
    }
  }
}

function sortKeysDeep(value) {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeysDeep(value[k])]));
  }
  return value;
}

// Comments people (and charts) leave in manifests, inserted before some well-known keys.
const KEY_COMMENTS = {
  'resources:': ['# resources are tuned per environment', '# TODO: revisit limits after load test', '# requests set by the platform team'],
  'securityContext:': ['# security context (see SEC-1042)', '# hardened per PSS restricted', '# TODO: run as non-root'],
  'replicas:': ['# managed by the HPA in production'],
  'livenessProbe:': ['# probes'],
  'ports:': ['# ports exposed by the container'],
  'tls:': ['# certificates are issued by cert-manager'],
  'data:': ['# non-secret configuration only'],
  'rules:': ['# least privilege: only what the controller needs'],
};

function addComments(lines, rng) {
  const out = [];
  for (const line of lines) {
    const trimmed = line.trimStart();
    const key = trimmed.startsWith('- ') ? undefined : Object.keys(KEY_COMMENTS).find((k) => trimmed === k || trimmed.startsWith(k + ' '));
    if (key && rng.chance(0.25)) out.push(' '.repeat(line.length - trimmed.length) + rng.pick(KEY_COMMENTS[key]));
    if (/^\s*replicas: \d+$/.test(line) && rng.chance(0.3)) out.push(line + ' # overridden in prod');
    else if (/^\s*image: /.test(line) && rng.chance(0.1)) out.push(line + ' # {"$imagepolicy": "flux-system:app"}');
    else out.push(line);
  }
  return out;
}

function toYaml(object, style, rng, { comments = true } = {}) {
  const writer = new YamlWriter(style, rng);
  writer.map(object, 0);
  return (comments ? addComments(writer.lines, rng) : writer.lines).join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Object model

const TEAMS = ['payments', 'checkout', 'search', 'identity', 'catalog', 'billing', 'ledger', 'notify', 'media', 'analytics'];
const ENVS = ['prod', 'staging', 'dev', 'qa', 'perf'];
const NAMESPACES = TEAMS.flatMap((team) => ENVS.map((env) => `${team}-${env}`)); // 50
const COMPONENTS = ['api', 'web', 'worker', 'gateway', 'scheduler', 'indexer', 'cache', 'db', 'consumer', 'exporter', 'sync', 'admin', 'auth', 'router', 'frontend', 'backend', 'mailer', 'reporter', 'uploader', 'resizer'];
const REGISTRIES = ['registry.example.com', 'ghcr.io/example', 'quay.io/example', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'docker.io/library'];
const PUBLIC_IMAGES = ['nginx', 'redis', 'postgres', 'busybox', 'alpine', 'envoyproxy/envoy', 'prom/statsd-exporter', 'grafana/promtail', 'bitnami/kubectl', 'fluent/fluent-bit'];
const BAD_CAPS = ['NET_ADMIN', 'SYS_ADMIN', 'SYS_PTRACE', 'NET_RAW', 'SYS_MODULE'];
const OK_CAPS = ['NET_BIND_SERVICE', 'CHOWN', 'SETUID', 'SETGID'];

function labels(app, release, component, chart, style) {
  if (style === 'simple') return { app, component };
  return {
    'app.kubernetes.io/name': app,
    'app.kubernetes.io/instance': release,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'Helm',
    'helm.sh/chart': chart,
  };
}

function selectorLabels(app, release, style) {
  if (style === 'simple') return { app };
  return { 'app.kubernetes.io/name': app, 'app.kubernetes.io/instance': release };
}

function version(rng) {
  return `${rng.int(0, 4)}.${rng.int(0, 30)}.${rng.int(0, 12)}`;
}

function imageRef(rng, component, bad) {
  if (bad.has('latest')) {
    return rng.weighted([
      [`${rng.pick(PUBLIC_IMAGES)}:latest`, 3],
      [rng.pick(PUBLIC_IMAGES), 2],
      [`${rng.pick(REGISTRIES)}/${component}:latest`, 2],
    ]);
  }
  return rng.weighted([
    [`${rng.pick(REGISTRIES)}/${component}:${version(rng)}`, 6],
    [`${rng.pick(REGISTRIES)}/${component}@sha256:${rng.hex(64)}`, 1],
    [`${rng.pick(PUBLIC_IMAGES)}:${version(rng)}-alpine`, 1],
  ]);
}

const PROBLEMS = [
  ['privileged', 3],
  ['hostNetwork', 2],
  ['hostPID', 1],
  ['hostIPC', 1],
  ['hostPath', 2],
  ['hostPort', 2],
  ['rootUser', 3],
  ['noNonRoot', 4],
  ['escalation', 4],
  ['capabilities', 2],
  ['noLimits', 4],
  ['latest', 3],
  ['writableRoot', 3],
  ['capsNotDropped', 3],
  ['noSeccomp', 2],
];

function posture(rng, kind) {
  const bad = new Set();
  // DaemonSets are the node agents: more often privileged / host-level.
  const badShare = kind === 'DaemonSet' ? 0.75 : kind === 'Pod' ? 0.55 : 0.38;
  if (!rng.chance(badShare)) return bad;
  const count = rng.weighted([[1, 5], [2, 3], [3, 2]]);
  while (bad.size < count) bad.add(rng.weighted(PROBLEMS));
  if (kind === 'DaemonSet' && rng.chance(0.5)) bad.add('hostPath');
  return bad;
}

function env(rng, release, namespace, count) {
  const out = [];
  const candidates = [
    () => ({ name: 'LOG_LEVEL', value: rng.pick(['info', 'debug', 'warn']) }),
    () => ({ name: 'PORT', value: String(rng.pick([8080, 8000, 3000, 9090])) }),
    () => ({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }),
    () => ({ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }),
    () => ({ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: `${release}-db`, key: 'url' } } }),
    () => ({ name: 'FEATURE_FLAGS', value: 'checkout-v2,fast-search' }),
    () => ({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: `http://otel-collector.observability.svc:4317` }),
    () => ({ name: 'ENABLE_PROFILING', value: rng.pick(['true', 'false']) }),
    () => ({ name: 'CACHE_TTL', value: `${rng.int(1, 60)}m` }),
    () => ({ name: 'SERVICE_NAMESPACE', value: namespace }),
    () => ({ name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1' } } }),
  ];
  for (const make of rng.sample(candidates, count)) out.push(make());
  return out;
}

function container(rng, { name, component, release, namespace, bad, port, probes, main }) {
  const c = { name, image: imageRef(rng, component, bad) };
  if (rng.chance(0.4)) c.imagePullPolicy = rng.pick(['IfNotPresent', 'Always']);
  if (!main && rng.chance(0.5)) c.args = ['--config=/etc/app/config.yaml', `--listen=:${port}`];
  if (main && rng.chance(0.3)) c.command = ['/app/server'];
  if (port) {
    const p = { name: 'http', containerPort: port, protocol: 'TCP' };
    if (bad.has('hostPort') && main) p.hostPort = port;
    c.ports = [p];
    if (main && rng.chance(0.15)) c.ports.push({ name: 'metrics', containerPort: 9090, protocol: 'TCP' });
  }
  const envCount = main ? rng.weighted([[0, 3], [1, 2], [2, 2], [3, 1], [5, 1]]) : 0;
  if (envCount) c.env = env(rng, release, namespace, envCount);
  if (main && rng.chance(0.3)) c.envFrom = [{ configMapRef: { name: `${release}-config` } }];
  const limits = !bad.has('noLimits');
  if (limits || rng.chance(0.4)) {
    c.resources = { requests: { cpu: rng.pick(['50m', '100m', '250m', '500m']), memory: rng.pick(['64Mi', '128Mi', '256Mi', '512Mi']) } };
    if (limits) c.resources.limits = { cpu: rng.pick(['200m', '500m', '1', '2']), memory: rng.pick(['128Mi', '256Mi', '512Mi', '1Gi']) };
  }
  if (probes && port && rng.chance(0.6)) {
    c.livenessProbe = { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 10, periodSeconds: 10 };
    if (rng.chance(0.5)) c.readinessProbe = { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5, failureThreshold: 3 };
  }
  // Container security context.
  const sc = {};
  if (bad.has('privileged') && main) sc.privileged = true;
  if (!bad.has('escalation')) sc.allowPrivilegeEscalation = false;
  else if (rng.chance(0.4)) sc.allowPrivilegeEscalation = true;
  if (!bad.has('rootUser') && !bad.has('noNonRoot') && rng.chance(0.3)) sc.runAsNonRoot = true;
  if (bad.has('rootUser') && main) sc.runAsUser = 0;
  if (!bad.has('writableRoot')) sc.readOnlyRootFilesystem = true;
  else if (rng.chance(0.3)) sc.readOnlyRootFilesystem = false;
  if (bad.has('capabilities') && main) sc.capabilities = rng.chance(0.5) ? { drop: ['ALL'], add: rng.sample(BAD_CAPS, rng.int(1, 2)) } : { add: rng.sample(BAD_CAPS, rng.int(1, 2)) };
  else if (bad.has('capsNotDropped')) {
    if (rng.chance(0.5)) sc.capabilities = rng.chance(0.5) ? { drop: ['NET_RAW'] } : { add: [rng.pick(OK_CAPS)] };
  } else sc.capabilities = rng.chance(0.15) ? { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } : { drop: ['ALL'] };
  if (Object.keys(sc).length) c.securityContext = sc;
  if (main && rng.chance(0.25)) c.volumeMounts = [{ name: 'config', mountPath: '/etc/app', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }];
  if (bad.has('hostPath') && main) (c.volumeMounts ??= []).push({ name: 'host', mountPath: '/host', readOnly: rng.chance(0.5) });
  if (rng.chance(0.15)) c.terminationMessagePolicy = 'FallbackToLogsOnError';
  return c;
}

function podSpec(rng, ctx, { restartPolicy } = {}) {
  const { release, bad, component, kind } = ctx;
  const spec = {};
  if (rng.chance(0.8)) spec.serviceAccountName = release;
  if (rng.chance(0.3)) spec.automountServiceAccountToken = false;
  if (restartPolicy) spec.restartPolicy = restartPolicy;
  if (bad.has('hostNetwork')) spec.hostNetwork = true;
  if (bad.has('hostPID')) spec.hostPID = true;
  if (bad.has('hostIPC')) spec.hostIPC = true;
  const psc = {};
  if (!bad.has('noNonRoot') && !bad.has('rootUser')) psc.runAsNonRoot = true;
  if (!bad.has('rootUser')) psc.runAsUser = 10001;
  else if (rng.chance(0.5)) psc.runAsUser = 0;
  if (rng.chance(0.6)) psc.fsGroup = 10001;
  if (!bad.has('noSeccomp')) psc.seccompProfile = { type: 'RuntimeDefault' };
  else if (rng.chance(0.3)) psc.seccompProfile = { type: 'Unconfined' };
  if (Object.keys(psc).length) spec.securityContext = psc;
  const port = kind === 'CronJob' ? undefined : rng.pick([8080, 8000, 3000, 9000, 5000]);
  ctx.port = port;
  if (rng.chance(0.1)) {
    spec.initContainers = [container(rng, { name: 'migrate', component: `${component}-migrate`, release, namespace: ctx.namespace, bad: rng.chance(0.5) ? bad : new Set(), port: undefined, probes: false, main: false })];
  }
  spec.containers = [container(rng, { name: component, component, release, namespace: ctx.namespace, bad, port, probes: kind !== 'CronJob' && kind !== 'Pod', main: true })];
  if (rng.chance(0.15)) {
    spec.containers.push(container(rng, { name: rng.pick(['envoy', 'log-shipper', 'cloudsql-proxy']), component: 'sidecar', release, namespace: ctx.namespace, bad: rng.chance(0.3) ? bad : new Set(), port: 15000 + rng.int(0, 99), probes: false, main: false }));
  }
  const volumes = [];
  if (spec.containers[0].volumeMounts?.some((m) => m.name === 'config')) {
    volumes.push({ name: 'config', configMap: { name: `${release}-config` } }, { name: 'tmp', emptyDir: {} });
  }
  if (bad.has('hostPath')) volumes.push({ name: 'host', hostPath: { path: rng.pick(['/var/run/docker.sock', '/var/log', '/', '/etc', '/proc']), type: rng.pick(['', 'Directory', 'Socket']) } });
  if (volumes.length) spec.volumes = volumes;
  if (rng.chance(0.15)) spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
  if (rng.chance(0.1)) spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: ctx.team, effect: 'NoSchedule' }];
  if (kind !== 'DaemonSet' && kind !== 'CronJob' && rng.chance(0.1)) {
    spec.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selectorLabels(ctx.app, release, ctx.labelStyle) } } }] } };
  }
  if (rng.chance(0.15)) spec.terminationGracePeriodSeconds = rng.pick([30, 60, 10]);
  return spec;
}

function meta(name, namespace, ctx, component, extra = {}) {
  const m = { name, namespace, labels: labels(ctx.app, ctx.release, component, ctx.chart, ctx.labelStyle), ...extra };
  return m;
}

function workload(rng, ctx) {
  const { kind, release, namespace } = ctx;
  const template = () => {
    const t = { metadata: { labels: selectorLabels(ctx.app, release, ctx.labelStyle) }, spec: podSpec(rng, ctx) };
    if (ctx.labelStyle === 'helm' && rng.chance(0.5)) t.metadata.annotations = { 'checksum/config': rng.hex(64) };
    if (rng.chance(0.1)) t.metadata.annotations = { ...t.metadata.annotations, 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' };
    return t;
  };
  switch (kind) {
    case 'Deployment': {
      const spec = { replicas: rng.pick([1, 2, 3, 3, 5]), revisionHistoryLimit: 10, selector: { matchLabels: selectorLabels(ctx.app, release, ctx.labelStyle) } };
      if (rng.chance(0.4)) spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } };
      spec.template = template();
      return { apiVersion: 'apps/v1', kind, metadata: meta(release, namespace, ctx, ctx.component), spec };
    }
    case 'StatefulSet': {
      const spec = { replicas: rng.pick([1, 3]), serviceName: `${release}-headless`, selector: { matchLabels: selectorLabels(ctx.app, release, ctx.labelStyle) }, template: template() };
      spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: rng.pick(['standard', 'gp3', 'premium-rwo']), resources: { requests: { storage: rng.pick(['10Gi', '50Gi', '100Gi']) } } } }];
      return { apiVersion: 'apps/v1', kind, metadata: meta(release, namespace, ctx, ctx.component), spec };
    }
    case 'DaemonSet': {
      const spec = { selector: { matchLabels: selectorLabels(ctx.app, release, ctx.labelStyle) }, updateStrategy: { type: 'RollingUpdate' }, template: template() };
      return { apiVersion: 'apps/v1', kind, metadata: meta(release, namespace, ctx, ctx.component), spec };
    }
    case 'CronJob': {
      const t = template();
      t.spec.restartPolicy = rng.pick(['OnFailure', 'Never']);
      const spec = { schedule: rng.pick(['*/5 * * * *', '0 3 * * *', '@hourly', '30 1 * * 0']), concurrencyPolicy: 'Forbid', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, jobTemplate: { spec: { backoffLimit: 2, template: t } } };
      return { apiVersion: 'batch/v1', kind, metadata: meta(release, namespace, ctx, ctx.component), spec };
    }
    case 'Pod': {
      const m = meta(release, namespace, ctx, ctx.component, { annotations: { 'kubernetes.io/description': 'debug pod, delete after use' } });
      return { apiVersion: 'v1', kind, metadata: m, spec: podSpec(rng, ctx, { restartPolicy: 'Always' }) };
    }
    default:
      throw new Error(kind);
  }
}

function service(rng, ctx) {
  const nodePort = rng.chance(0.15);
  const spec = { type: nodePort ? 'NodePort' : rng.weighted([['ClusterIP', 8], ['LoadBalancer', 1]]), selector: selectorLabels(ctx.app, ctx.release, ctx.labelStyle), ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] };
  if (nodePort) spec.ports[0].nodePort = 30000 + rng.int(0, 2767);
  if (spec.type === 'LoadBalancer' && rng.chance(0.5)) spec.loadBalancerSourceRanges = ['10.0.0.0/8'];
  const metadata = meta(ctx.release, ctx.namespace, ctx, ctx.component);
  if (rng.chance(0.2)) metadata.annotations = { 'service.beta.kubernetes.io/aws-load-balancer-internal': 'true' };
  return { apiVersion: 'v1', kind: 'Service', metadata, spec };
}

function ingress(rng, ctx) {
  const host = `${ctx.component}.${ctx.team}.${ctx.env === 'prod' ? '' : ctx.env + '.'}example.com`;
  const spec = {
    ingressClassName: rng.pick(['nginx', 'alb', 'traefik']),
    rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: ctx.release, port: { name: 'http' } } } }] } }],
  };
  if (rng.chance(0.7)) spec.tls = [{ hosts: [host], secretName: `${ctx.release}-tls` }];
  const metadata = meta(ctx.release, ctx.namespace, ctx, ctx.component);
  metadata.annotations = { 'cert-manager.io/cluster-issuer': 'letsencrypt-prod', 'nginx.ingress.kubernetes.io/proxy-body-size': '8m' };
  if (rng.chance(0.3)) metadata.annotations['nginx.ingress.kubernetes.io/ssl-redirect'] = 'false';
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec };
}

function configMap(rng, ctx) {
  const data = {};
  const variant = rng.int(0, 3);
  if (variant === 0) {
    data['config.yaml'] = `server:\n  port: ${ctx.port ?? 8080}\n  readTimeout: 30s\nlog:\n  level: info\n  format: json\nfeatures:\n  - search-v2\n  - fast-checkout\n`;
  } else if (variant === 1) {
    data.LOG_LEVEL = 'info';
    data.CACHE_SIZE = String(rng.int(64, 1024));
    data.ENABLE_TRACING = 'true';
    data.UPSTREAM_URL = `http://${ctx.component}-upstream.${ctx.namespace}.svc.cluster.local:8080`;
  } else if (variant === 2) {
    data['application.properties'] = `spring.application.name=${ctx.app}\nserver.port=${ctx.port ?? 8080}\nmanagement.endpoints.web.exposure.include=health,info,prometheus\n# credentials come from the secret\nspring.datasource.url=jdbc:postgresql://db:5432/${ctx.team}\n`;
  } else {
    data['nginx.conf'] = `worker_processes auto;\nevents { worker_connections 1024; }\nhttp {\n  server {\n    listen 8080;\n    location / { proxy_pass http://127.0.0.1:${ctx.port ?? 3000}; }\n  }\n}\n`;
  }
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${ctx.release}-config`, ctx.namespace, ctx, ctx.component), data };
}

function serviceAccount(rng, ctx) {
  const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(ctx.release, ctx.namespace, ctx, ctx.component) };
  if (rng.chance(0.3)) sa.metadata.annotations = { 'eks.amazonaws.com/role-arn': `arn:aws:iam::123456789012:role/${ctx.release}` };
  if (rng.chance(0.3)) sa.automountServiceAccountToken = false;
  return sa;
}

function role(rng, ctx) {
  const risky = rng.chance(0.25);
  const rules = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }];
  if (risky) rules.push(rng.pick([{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }, { apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]));
  else rules.push({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] });
  return { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(ctx.release, ctx.namespace, ctx, ctx.component), rules };
}

function roleBinding(rng, ctx) {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(ctx.release, ctx.namespace, ctx, ctx.component),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ctx.release },
    subjects: [{ kind: 'ServiceAccount', name: ctx.release, namespace: ctx.namespace }],
  };
}

function networkPolicy(rng, ctx) {
  const spec = {
    podSelector: { matchLabels: selectorLabels(ctx.app, ctx.release, ctx.labelStyle) },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }, { podSelector: { matchLabels: { 'app.kubernetes.io/instance': ctx.release } } }], ports: [{ protocol: 'TCP', port: ctx.port ?? 8080 }] }],
  };
  if (rng.chance(0.3)) {
    spec.policyTypes.push('Egress');
    spec.egress = [{ to: [{ namespaceSelector: {} }], ports: [{ protocol: 'UDP', port: 53 }] }];
  }
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta(`${ctx.release}-allow`, ctx.namespace, ctx, ctx.component), spec };
}

/** One helm-style release: a workload and the objects around it. */
function release(rng, index) {
  const team = rng.pick(TEAMS);
  const envName = rng.pick(ENVS);
  const component = rng.pick(COMPONENTS);
  const app = `${team}-${component}`;
  const rel = `${app}-${index.toString(36)}`;
  const kind = rng.weighted([['Deployment', 62], ['StatefulSet', 10], ['DaemonSet', 6], ['CronJob', 10], ['Pod', 12]]);
  // Helm charts label everything with the five recommended labels; kustomize and hand-written manifests are terser.
  const labelStyle = rng.chance(0.35) ? 'helm' : 'simple';
  const ctx = { team, env: envName, namespace: `${team}-${envName}`, component, app, release: rel, chart: `${component}-${version(rng)}`, kind, labelStyle };
  ctx.bad = posture(rng, kind);
  const objects = [];
  const templates = [];
  const add = (object, template) => {
    objects.push(object);
    templates.push(template);
  };
  const sa = rng.chance(0.85);
  if (sa) add(serviceAccount(rng, ctx), 'serviceaccount.yaml');
  const w = workload(rng, ctx); // sets ctx.port
  const cm = rng.chance(0.75);
  if (cm) add(configMap(rng, ctx), 'configmap.yaml');
  if (rng.chance(0.3)) {
    add(role(rng, ctx), 'role.yaml');
    add(roleBinding(rng, ctx), 'rolebinding.yaml');
  }
  if (kind !== 'CronJob' && kind !== 'DaemonSet') add(service(rng, ctx), 'service.yaml');
  add(w, `${kind.toLowerCase()}.yaml`);
  if ((kind === 'Deployment' || kind === 'StatefulSet') && rng.chance(0.35)) add(ingress(rng, ctx), 'ingress.yaml');
  if (kind !== 'Pod' && rng.chance(0.4)) add(networkPolicy(rng, ctx), 'networkpolicy.yaml');
  return { ctx, objects, templates };
}

/** Adds the fields the API server sets, for `kubectl get -o yaml/json` style output. */
function asServerObject(rng, object) {
  const o = structuredClone(object);
  o.metadata.uid = `${rng.hex(8)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(12)}`;
  o.metadata.resourceVersion = String(rng.int(100000, 99999999));
  o.metadata.creationTimestamp = `2025-0${rng.int(1, 9)}-1${rng.int(0, 9)}T0${rng.int(0, 9)}:${rng.int(10, 59)}:${rng.int(10, 59)}Z`;
  o.metadata.generation = rng.int(1, 40);
  if (['Deployment', 'StatefulSet'].includes(o.kind)) {
    const r = o.spec.replicas ?? 1;
    o.status = { observedGeneration: o.metadata.generation, replicas: r, readyReplicas: r, updatedReplicas: r, availableReplicas: r };
  } else if (o.kind === 'DaemonSet') {
    const n = rng.int(3, 40);
    o.status = { currentNumberScheduled: n, desiredNumberScheduled: n, numberReady: n, numberMisscheduled: 0 };
  }
  return o;
}

// ---------------------------------------------------------------------------------------------

function fileStyle(rng, fileIndex) {
  return {
    // kubectl writes compact sequences; most helm charts indent them.
    compactSeq: fileIndex % 2 === 0,
    quote: rng.weighted([['minimal', 6], ['double', 3], ['single', 1]]),
    quoteValues: new Set(rng.chance(0.5) ? ['value', 'cpu', 'memory', 'schedule', 'helm.sh/chart'] : ['schedule']),
    flowScalarLists: rng.chance(0.2),
  };
}

export async function generate({ objects: total = 10_000, files: fileCount = 200, out, seed = 20251, check = false, quiet = false } = {}) {
  if (!Number.isInteger(total) || total < 1) throw new Error('--objects must be a positive integer');
  if (!Number.isInteger(fileCount) || fileCount < 1) throw new Error('--files must be a positive integer');
  fileCount = Math.min(fileCount, total);
  const dir = path.resolve(out ?? path.join(here, 'data', `manifests-${total}`));
  const rng = new Rng(seed);

  // Releases until `total` objects exist (the last release is cut short to land on it exactly).
  const releases = [];
  let count = 0;
  for (let i = 0; count < total; i++) {
    const r = release(rng, i);
    if (count + r.objects.length > total) {
      const keep = total - count;
      r.objects = r.objects.slice(0, keep);
      r.templates = r.templates.slice(0, keep);
    }
    releases.push(r);
    count += r.objects.length;
  }

  // Special files: ~2% JSON (kubectl get -o json Lists) and one `kind: List` YAML file.
  const jsonFiles = fileCount >= 20 ? Math.max(1, Math.round(fileCount * 0.02)) : 0;
  const listFiles = fileCount >= 10 ? 1 : 0;
  const jsonIndexes = new Set(Array.from({ length: jsonFiles }, (_, k) => Math.floor(((k + 0.5) * (fileCount - 1)) / jsonFiles)));
  const buckets = Array.from({ length: fileCount }, () => []);
  // Releases are dealt to files in contiguous runs so each file is a coherent set of releases.
  const perFile = releases.length / fileCount;
  releases.forEach((r, i) => buckets[Math.min(fileCount - 1, Math.floor(i / perFile))].push(r));

  await rm(dir, { recursive: true, force: true });
  const subdirs = ['apps', 'platform', 'teams/core', 'teams/edge'];
  const written = [];
  let bytes = 0;
  const kinds = {};
  const stats = { workloads: 0, badWorkloads: 0 };
  for (let f = 0; f < fileCount; f++) {
    const frng = new Rng(seed * 31 + f);
    const bucket = buckets[f];
    const sub = subdirs[f % subdirs.length];
    const base = `${String(f).padStart(4, '0')}-${bucket[0]?.ctx.app ?? 'empty'}`;
    let text;
    let name;
    const isJson = jsonIndexes.has(f);
    const isList = listFiles && f === fileCount - 1;
    const objectsInFile = bucket.flatMap((r) => r.objects);
    for (const r of bucket) {
      for (const o of r.objects) {
        kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
        if (['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Pod'].includes(o.kind)) {
          stats.workloads++;
          if (r.ctx.bad.size) stats.badWorkloads++;
        }
      }
    }
    let expected;
    if (isJson) {
      const list = { apiVersion: 'v1', items: objectsInFile.map((o) => sortKeysDeep(asServerObject(frng, o))), kind: 'List', metadata: { resourceVersion: '' } };
      text = JSON.stringify(list, null, 4) + '\n';
      name = `${base}.json`;
      expected = [list];
    } else if (isList) {
      const list = { apiVersion: 'v1', items: objectsInFile.map((o) => sortKeysDeep(asServerObject(frng, o))), kind: 'List', metadata: { resourceVersion: '' } };
      const style = { ...fileStyle(frng, f), compactSeq: true, quote: 'minimal', quoteValues: new Set(), flowScalarLists: false };
      text = toYaml(list, style, frng, { comments: false });
      name = `${base}-kubectl-get.yaml`;
      expected = [list];
    } else {
      const style = fileStyle(frng, f);
      const parts = [];
      expected = [];
      if (frng.chance(0.3)) parts.push(`# Rendered by helm template for ${bucket[0]?.ctx.namespace ?? 'default'}; do not edit.\n`);
      let first = true;
      for (const r of bucket) {
        r.objects.forEach((o, i) => {
          const header = r.ctx.labelStyle === 'helm' ? `# Source: ${r.ctx.component}/templates/${r.templates[i]}\n` : '';
          parts.push(`${first && frng.chance(0.5) ? '' : '---\n'}${header}${toYaml(o, style, frng)}`);
          first = false;
          expected.push(o);
        });
      }
      // Some generators leave an empty trailing document.
      if (frng.chance(0.1)) {
        parts.push('---\n');
        expected.push(null);
      }
      text = parts.join('');
      name = `${base}.yaml`;
    }
    const file = path.join(dir, sub, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    bytes += Buffer.byteLength(text);
    written.push(file);
    if (check) await verify(file, text, expected, isJson);
  }
  const summary = { dir, files: written.length, objects: count, bytes, kinds, workloads: stats.workloads, workloadsWithProblems: stats.badWorkloads, seed };
  // Beside the corpus, not in it: kscan would read a .json file inside as a manifest.
  await writeFile(`${dir}.corpus.json`, JSON.stringify(summary, null, 2) + '\n');
  if (!quiet) {
    console.log(`wrote ${summary.objects} objects in ${summary.files} files (${(bytes / 1024 / 1024).toFixed(2)} MiB) to ${path.relative(process.cwd(), dir) || dir}`);
    console.log(`  kinds: ${Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    console.log(`  workloads with at least one posture problem: ${stats.badWorkloads}/${stats.workloads} (${((100 * stats.badWorkloads) / stats.workloads).toFixed(0)}%)`);
  }
  return summary;
}

let jsYaml;
async function verify(file, text, expected, isJson) {
  jsYaml ??= (await import('js-yaml')).default;
  const docs = isJson ? [JSON.parse(text)] : jsYaml.loadAll(text);
  // JSON round trip normalizes away undefined fields.
  const want = JSON.parse(JSON.stringify(expected));
  if (!isDeepStrictEqual(docs, want)) {
    for (let i = 0; i < Math.max(docs.length, want.length); i++) {
      if (!isDeepStrictEqual(docs[i], want[i])) {
        throw new Error(`${file}: document ${i} does not round-trip:\n got ${JSON.stringify(docs[i]).slice(0, 400)}\nwant ${JSON.stringify(want[i]).slice(0, 400)}`);
      }
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      objects: { type: 'string', default: '10000' },
      files: { type: 'string', default: '200' },
      out: { type: 'string' },
      seed: { type: 'string', default: '20251' },
      check: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node bench/generate-manifests.mjs [--objects N] [--files F] [--out dir] [--seed S] [--check] [--quiet]');
    process.exit(0);
  }
  generate({ objects: Number(values.objects), files: Number(values.files), out: values.out, seed: Number(values.seed), check: values.check, quiet: values.quiet }).catch((error) => {
    console.error(`generate-manifests: ${error.message}`);
    process.exit(2);
  });
}
