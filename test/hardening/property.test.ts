// Property-based tests (fast-check) for the parsers and the check engine: arbitrary manifests,
// random (often malformed) Kubernetes objects through the real built-in checks, and random audit
// lines through the reader and the analyzer. The invariant everywhere: no crash, a clear error or
// the right result, and nothing else lost. Seeds are fixed (KSCAN_FC_SEED overrides) and printed
// with the counterexample by fast-check when a property fails.
import { expect } from 'chai';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { collectFiles, parseManifestText } from '../../src/collect/files.js';
import { SourceLocator } from '../../src/collect/locate.js';
import { loadChecks, type Check } from '../../src/checks/loader.js';
import { runChecks } from '../../src/checks/engine.js';
import { Inventory } from '../../src/inventory/inventory.js';
import type { CollectedObject, K8sObject } from '../../src/model/types.js';
import { readAuditLogs } from '../../src/audit/reader.js';
import { AuditAnalyzer } from '../../src/audit/analyzer.js';
import { compileAuditRules } from '../../src/audit/rules.js';

const SEED = Number(process.env.KSCAN_FC_SEED ?? 20261202);
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns, endOnFailure: true });

// ---------------------------------------------------------------------------------------------
// Manifests

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
/** Scalars as they occur in manifests, including ones YAML would read as other types unless quoted. */
const scalar = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('yes', 'no', 'null', '~', '0x1F', '1e3', '2024-01-01', '---', '...', '*alias', '&anchor', '# not a comment', 'a: b', '{x}', '[y]', '|', '>', '%YAML', '@', '`', "'", '"'),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.stringMatching(/^[A-Za-z_][\w.-]{0,12}$/), tie('v'), { maxKeys: 4 })),
})).v;

const k8sObject = fc.record({
  apiVersion: fc.constantFrom('v1', 'apps/v1', 'batch/v1', 'example.com/v1alpha1'),
  kind: fc.constantFrom('Pod', 'Deployment', 'ConfigMap', 'Service', 'Widget'),
  metadata: fc.record({ name, namespace: fc.option(name, { nil: undefined }), labels: fc.option(fc.dictionary(name, fc.string({ maxLength: 20 }), { maxKeys: 3 }), { nil: undefined }) }, { requiredKeys: ['name'] }),
  spec: value,
}).map((o) => JSON.parse(JSON.stringify(o)) as K8sObject); // drop undefined, normalise -0

type Doc = { kind: 'object'; object: K8sObject; text: string } | { kind: 'junk'; text: string };

/** Text that is no Kubernetes object: broken YAML, non-mappings, mappings without kind, random bytes. */
const junk = fc.oneof(
  fc.constantFrom('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken', 'key: "unterminated', '- a\n- b', 'just a scalar', 'a: 1\n a: 2', '\tkey: tab', 'metadata:\n  name: x', 'apiVersion: v1\nkind: Pod\nmetadata: 5', '{apiVersion: v1, kind: Pod', 'kind: [', '&a [*a]', '!!binary ZZZ'),
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
).map((text) => text.split('\n').filter((l) => !/^(---|\.\.\.)(\s|$)/.test(l)).join('\n'));

const doc: fc.Arbitrary<Doc> = fc.oneof(
  fc.tuple(k8sObject, fc.constantFrom('block', 'flow', 'json', 'commented')).map(([object, style]): Doc => {
    const text = style === 'block' ? yaml.dump(object) : style === 'flow' ? yaml.dump(object, { flowLevel: 0 }) : style === 'json' ? JSON.stringify(object, null, 2) : `# Source: chart/templates/x.yaml\n${yaml.dump(object, { indent: 4 })}`;
    return { kind: 'object', object, text };
  }),
  junk.map((text): Doc => ({ kind: 'junk', text })),
);

function parse(file: string, text: string) {
  return parseManifestText(file, text, new SourceLocator());
}

// ---------------------------------------------------------------------------------------------
// Random Kubernetes objects for the check engine: plausible shapes with missing fields, wrong types,
// huge arrays and deep nesting mixed in.

const wrong = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}), fc.array(fc.integer(), { maxLength: 3 }));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.oneof({ weight: 4, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: wrong }), { nil: undefined, freq: 3 });
const deep = fc.integer({ min: 50, max: 400 }).map((depth) => {
  let node: unknown = 'bottom';
  for (let i = 0; i < depth; i++) node = i % 2 ? { nested: node } : [node];
  return node;
});

const securityContext = fc.record({
  privileged: maybe(fc.boolean()),
  runAsNonRoot: maybe(fc.boolean()),
  runAsUser: maybe(fc.integer({ min: -1, max: 70000 })),
  allowPrivilegeEscalation: maybe(fc.boolean()),
  readOnlyRootFilesystem: maybe(fc.boolean()),
  capabilities: maybe(fc.record({ add: maybe(fc.array(fc.constantFrom('NET_ADMIN', 'SYS_ADMIN', 'ALL', ''), { maxLength: 3 })), drop: maybe(fc.array(fc.constantFrom('ALL', 'NET_RAW'), { maxLength: 2 })) })),
  seccompProfile: maybe(fc.record({ type: maybe(fc.constantFrom('RuntimeDefault', 'Unconfined', 'Localhost')) })),
}, { requiredKeys: [] });
const container = fc.record({
  name: maybe(name),
  image: maybe(fc.constantFrom('nginx', 'nginx:latest', 'registry:5000/app@sha256:abc', 'app:1.2', '', ':')),
  securityContext: maybe(securityContext),
  ports: maybe(fc.array(fc.record({ containerPort: maybe(fc.integer()), hostPort: maybe(fc.integer({ min: 0, max: 65535 })) }, { requiredKeys: [] }), { maxLength: 3 })),
  resources: maybe(fc.record({ limits: maybe(fc.dictionary(fc.constantFrom('cpu', 'memory'), fc.oneof(fc.string({ maxLength: 5 }), fc.integer()))) }, { requiredKeys: [] })),
  env: maybe(fc.array(fc.record({ name: maybe(name), value: maybe(fc.string({ maxLength: 10 })) }, { requiredKeys: [] }), { maxLength: 3 })),
  volumeMounts: maybe(fc.array(fc.record({ name: maybe(name), mountPath: maybe(fc.constantFrom('/', '/var/run/docker.sock', '/data')) }, { requiredKeys: [] }), { maxLength: 2 })),
}, { requiredKeys: [] });
const podSpec = fc.record({
  containers: maybe(fc.oneof({ weight: 9, arbitrary: fc.array(container, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(container, { minLength: 300, maxLength: 600 }) })),
  initContainers: maybe(fc.array(container, { maxLength: 2 })),
  hostNetwork: maybe(fc.boolean()),
  hostPID: maybe(fc.boolean()),
  hostIPC: maybe(fc.boolean()),
  serviceAccountName: maybe(name),
  automountServiceAccountToken: maybe(fc.boolean()),
  securityContext: maybe(securityContext),
  volumes: maybe(fc.array(fc.record({ name: maybe(name), hostPath: maybe(fc.record({ path: maybe(fc.constantFrom('/', '/etc', '/var/run/docker.sock')) }, { requiredKeys: [] })) }, { requiredKeys: [] }), { maxLength: 3 })),
  extra: maybe(deep),
}, { requiredKeys: [] });
const rule = fc.record({
  apiGroups: maybe(fc.array(fc.constantFrom('', '*', 'apps'), { maxLength: 2 })),
  resources: maybe(fc.array(fc.constantFrom('secrets', 'pods', 'pods/exec', '*'), { maxLength: 3 })),
  verbs: maybe(fc.array(fc.constantFrom('get', 'list', 'create', '*', 'escalate'), { maxLength: 3 })),
}, { requiredKeys: [] });

const KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Service', 'Ingress', 'ConfigMap', 'Secret', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ServiceAccount', 'Namespace', 'NetworkPolicy', 'Node'];
const randomObject: fc.Arbitrary<K8sObject> = fc.record({
  kind: fc.constantFrom(...KINDS),
  name,
  namespace: fc.option(fc.constantFrom('default', 'kube-system', 'shop'), { nil: undefined }),
  // Metadata is well typed: file collection rejects objects whose metadata is not (hostile.test.ts).
  labels: fc.option(fc.dictionary(name, fc.string({ maxLength: 10 }), { maxKeys: 3 }), { nil: undefined }),
  annotations: fc.option(fc.dictionary(fc.constantFrom('kubernetes.io/ingress.class', 'seccomp.security.alpha.kubernetes.io/pod', 'x'), fc.string({ maxLength: 10 })), { nil: undefined }),
  ownerReferences: fc.option(fc.array(fc.record({ kind: fc.constantFrom('ReplicaSet', 'Deployment', 'Job'), name, uid: fc.option(name, { nil: undefined }), controller: fc.option(fc.boolean(), { nil: undefined }) }, { requiredKeys: ['kind', 'name'] }), { maxLength: 2 }), { nil: undefined }),
  podSpec: maybe(podSpec),
  template: fc.boolean(),
  spec: maybe(fc.dictionary(fc.constantFrom('type', 'ports', 'tls', 'rules', 'podSelector', 'policyTypes', 'ingress', 'egress', 'replicas'), value, { maxKeys: 4 })),
  data: maybe(fc.dictionary(fc.constantFrom('password', 'config', 'token', 'AWS_SECRET_ACCESS_KEY'), fc.oneof(fc.string({ maxLength: 30 }), wrong), { maxKeys: 3 })),
  rules: maybe(fc.array(rule, { maxLength: 3 })),
  subjects: maybe(fc.array(fc.record({ kind: maybe(fc.constantFrom('User', 'Group', 'ServiceAccount')), name: maybe(fc.constantFrom('system:anonymous', 'system:authenticated', 'default', 'alice')), namespace: maybe(name) }, { requiredKeys: [] }), { maxLength: 2 })),
  roleRef: maybe(fc.record({ kind: maybe(fc.constantFrom('Role', 'ClusterRole')), name: maybe(fc.constantFrom('cluster-admin', 'view', 'edit')) }, { requiredKeys: [] })),
}).map((r) => {
  const metadata: Record<string, unknown> = { name: r.name };
  if (r.namespace) metadata.namespace = r.namespace;
  if (r.labels !== undefined) metadata.labels = r.labels;
  if (r.annotations !== undefined) metadata.annotations = r.annotations;
  if (r.ownerReferences !== undefined) metadata.ownerReferences = r.ownerReferences;
  const object: Record<string, unknown> = { apiVersion: 'v1', kind: r.kind, metadata };
  const spec: Record<string, unknown> = { ...((r.spec as Record<string, unknown>) ?? {}) };
  if (r.podSpec !== undefined) {
    if (r.kind === 'Pod' || !r.template) Object.assign(spec, r.podSpec);
    else if (r.kind === 'CronJob') spec.jobTemplate = { spec: { template: { spec: r.podSpec } } };
    else spec.template = { metadata: { labels: r.labels }, spec: r.podSpec };
  }
  if (Object.keys(spec).length) object.spec = spec;
  if (r.data !== undefined) object.data = r.data;
  if (r.rules !== undefined) object.rules = r.rules;
  if (r.subjects !== undefined) object.subjects = r.subjects;
  if (r.roleRef !== undefined) object.roleRef = r.roleRef;
  return JSON.parse(JSON.stringify(object)) as K8sObject;
});

// ---------------------------------------------------------------------------------------------
// Audit lines

const auditEvent = fc.record({
  kind: fc.constant('Event'),
  apiVersion: fc.constantFrom('audit.k8s.io/v1', 'audit.k8s.io/v1beta1'),
  level: maybe(fc.constantFrom('Metadata', 'Request', 'RequestResponse')),
  auditID: maybe(fc.uuid()),
  stage: maybe(fc.constantFrom('ResponseComplete', 'RequestReceived', 'ResponseStarted', 'Panic')),
  requestURI: maybe(fc.constantFrom('/api/v1/namespaces/shop/pods/web/exec?command=sh', '/api/v1/secrets', '/apis/apps/v1/deployments', '')),
  verb: maybe(fc.constantFrom('get', 'list', 'create', 'delete', 'watch', 'patch', 'update')),
  user: maybe(fc.record({ username: maybe(fc.constantFrom('alice', 'system:anonymous', 'system:node:n1', 'system:serviceaccount:kube-system:x')), groups: maybe(fc.array(fc.constantFrom('system:masters', 'system:authenticated'), { maxLength: 2 })) }, { requiredKeys: [] })),
  impersonatedUser: maybe(fc.record({ username: maybe(name) }, { requiredKeys: [] })),
  sourceIPs: maybe(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 5 })), { maxLength: 2 })),
  userAgent: maybe(fc.string({ maxLength: 20 })),
  objectRef: maybe(fc.record({ resource: maybe(fc.constantFrom('pods', 'secrets', 'configmaps', 'namespaces', 'nodes', 'services', 'clusterrolebindings')), namespace: maybe(fc.constantFrom('shop', 'kube-system')), name: maybe(name), subresource: maybe(fc.constantFrom('exec', 'attach', 'status', 'proxy')), apiGroup: maybe(fc.constantFrom('', 'apps', 'rbac.authorization.k8s.io')) }, { requiredKeys: [] })),
  responseStatus: maybe(fc.record({ code: maybe(fc.constantFrom(200, 201, 101, 403, 401, 500)) }, { requiredKeys: [] })),
  requestObject: maybe(fc.oneof(value, randomObject)),
  responseObject: maybe(value),
  requestReceivedTimestamp: maybe(fc.oneof(fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 12 }))),
  stageTimestamp: maybe(fc.constantFrom('2026-11-20T08:00:04.000000Z', 'yesterday')),
  annotations: maybe(fc.dictionary(fc.constantFrom('authorization.k8s.io/decision', 'authorization.k8s.io/reason'), fc.string({ maxLength: 8 }), { maxKeys: 2 })),
}, { requiredKeys: ['kind', 'apiVersion'] });

type Line = { type: 'event' | 'malformed' | 'unsupported' | 'blank'; text: string };
const line: fc.Arbitrary<Line> = fc.oneof(
  { weight: 6, arbitrary: auditEvent.map((e): Line => ({ type: 'event', text: JSON.stringify(e) })) },
  // Not JSON: no brace anywhere, so no CloudWatch-style "timestamp {json}" can be read into it.
  { weight: 2, arbitrary: fc.string({ maxLength: 80 }).map((s): Line => ({ type: 'malformed', text: `#${s.replace(/[\s{}[\]]/g, '_')}` })) },
  { weight: 1, arbitrary: auditEvent.map((e): Line => ({ type: 'malformed', text: JSON.stringify(e).slice(0, -7) })) },
  { weight: 1, arbitrary: fc.constantFrom('{"kind":"Pod"}', '42', '"text"', '{"kind":"Event","apiVersion":"v1"}', '{}', 'null').map((text): Line => ({ type: 'unsupported', text })) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t').map((text): Line => ({ type: 'blank', text })) },
);

// ---------------------------------------------------------------------------------------------

describe('Property-based: parsers and the check engine never crash and lose nothing', function () {
  this.timeout(60_000);
  let checks: Check[];
  let dir: string;

  before(async () => {
    const loaded = await loadChecks();
    expect(loaded.errors).to.deep.equal([]);
    checks = loaded.checks;
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-property-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('manifests: every valid document is read exactly, every other one gives an error naming the file and a line inside it', () => {
    fc.assert(fc.property(fc.array(doc, { minLength: 1, maxLength: 6 }), fc.boolean(), (docs, leadingSeparator) => {
      const text = (leadingSeparator ? '---\n' : '') + docs.map((d) => d.text).join('\n---\n') + '\n';
      const lineCount = text.split('\n').length;
      const { objects, errors } = parse('gen.yaml', text);
      for (const error of errors) {
        expect(error.source).to.equal('gen.yaml');
        expect(error.line, error.message).to.be.a('number').within(1, lineCount);
        expect(error.message).to.be.a('string').and.not.equal('');
      }
      const expected = docs.filter((d): d is Extract<Doc, { kind: 'object' }> => d.kind === 'object').map((d) => JSON.stringify(d.object));
      const read = objects.map((o) => JSON.stringify(o.object));
      // Junk may itself be a valid object (a random string can be YAML); every generated object is there, in order.
      let at = 0;
      for (const want of expected) {
        const found = read.indexOf(want, at);
        expect(found, `object lost: ${want}\nfrom:\n${text}`).to.be.at.least(0);
        at = found + 1;
      }
      for (const o of objects) expect(o.source?.line).to.be.within(1, lineCount);
    }), params(400));
  });

  it('manifests: a single JSON file of any value gives objects or one error with a line', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v, null, 1)), fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v).slice(0, -1))), (text) => {
      const { objects, errors } = parse('gen.json', text);
      const lineCount = text.split('\n').length;
      let empty = false;
      try {
        const value = JSON.parse(text) as unknown;
        empty = value === null || (Array.isArray(value) && value.length === 0);
      } catch {
        // invalid: an error is due
      }
      expect(objects.length + errors.length, text).to.be.at.least(empty ? 0 : 1);
      for (const error of errors) expect(error.line ?? 1, error.message).to.be.within(1, lineCount);
    }), params(300));
  });

  it('manifests: collectFiles over a directory of mixed files keeps every good file and names every bad one', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.oneof(k8sObject.map((o) => ({ good: o })), junk.map((j) => ({ bad: j })), fc.uint8Array({ maxLength: 64 }).map((b) => ({ bytes: b })))), { minLength: 1, maxLength: 5 }), async (files) => {
      const sub = await mkdtemp(path.join(dir, 'files-'));
      const names = files.map((_, i) => path.join(sub, `f${i}.yaml`));
      await Promise.all(files.map(([f], i) => writeFile(names[i], 'good' in f ? yaml.dump(f.good) : 'bad' in f ? f.bad : Buffer.from(f.bytes))));
      const result = await collectFiles([sub]);
      for (const [i, [f]] of files.entries()) {
        if ('good' in f) expect(result.objects.some((o) => o.source?.file === names[i] && JSON.stringify(o.object) === JSON.stringify(f.good)), names[i]).to.equal(true);
      }
      for (const error of result.coverage.errors) expect(names).to.include(error.source);
      await rm(sub, { recursive: true, force: true });
    }), params(40));
  });

  it('check engine: random, malformed objects through every built-in check give findings with messages or per-object evaluation errors', () => {
    fc.assert(fc.property(fc.array(randomObject, { minLength: 1, maxLength: 8 }), (list) => {
      const items: CollectedObject[] = list.map((object) => ({ object }));
      const result = runChecks(new Inventory(items), checks);
      for (const finding of result.findings) {
        expect(finding.message.trim(), `${finding.checkId} on ${finding.object.kind}/${finding.object.name}`).to.not.equal('');
        expect(finding.checkId).to.match(/^KS-/);
      }
      for (const error of result.errors) {
        expect(error.stage).to.equal('evaluate');
        expect(error.source).to.match(/^KS-[A-Z]+-\d+( on [A-Za-z]+\/.+)?$/);
        // A budget overrun would silently skip a check: none may happen on objects this small.
        expect(error.message).to.not.match(/check skipped/);
      }
      expect([...result.evaluated.keys()]).to.have.length(checks.length);
    }), params(150));
  });

  it('audit: random event lines, split anywhere, are all counted: events analysed, malformed and unsupported lines reported', async () => {
    const rules = compileAuditRules(checks);
    const unanalysable: string[] = [];
    await fc.assert(fc.asyncProperty(auditEvent, fc.array(line, { maxLength: 30 }), fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 6 }), async (first, rest, cuts) => {
      const lines: Line[] = [{ type: 'event', text: JSON.stringify(first) }, ...rest];
      const bytes = Buffer.from(lines.map((l) => l.text).join('\n') + '\n');
      const offsets = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
      const chunks = [0, ...offsets].map((start, i) => bytes.subarray(start, offsets[i] ?? bytes.length)).filter((c) => c.length);
      const analyzer = new AuditAnalyzer({ rules: rules.map((r) => ({ ...r })) });
      const stats = await readAuditLogs(['-'], (event) => analyzer.add(event), { stdin: Readable.from(chunks), maxProblems: 100 });
      const count = (type: Line['type']) => lines.filter((l) => l.type === type).length;
      expect(stats.lines, JSON.stringify(stats.problems.slice(-2))).to.equal(lines.length);
      expect(stats.events).to.equal(count('event'));
      expect(stats.malformed).to.equal(count('malformed'));
      expect(stats.unsupported).to.equal(count('unsupported'));
      expect(analyzer.events).to.equal(stats.events);
      for (const problem of stats.problems) expect(problem.line, problem.message).to.be.within(1, lines.length);
      const notAnalysed = stats.problems.filter((p) => p.message.startsWith('event not analysed'));
      if (notAnalysed.length) unanalysable.push(...notAnalysed.map((p) => p.message));
      const report = analyzer.report(stats);
      expect(report).to.be.an('object');
      for (const finding of analyzer.findings()) expect(finding.message.trim()).to.not.equal('');
      for (const error of analyzer.errors) expect(error.source).to.match(/^KS-AUD-/);
    }), params(200));
    // Known: the analyzer assumes well-typed events (requestURI a string...); the reader contains it per event.
    if (unanalysable.length) console.log(`      (${unanalysable.length} events not analysed, e.g. ${[...new Set(unanalysable)].slice(0, 3).join('; ')})`);
  });
});
