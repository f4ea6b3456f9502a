// Secret values never reach an output: every report format (PDF read back with pdftotext), standard
// output and standard error, and snapshots. The candidate strings are collected from the fixtures
// themselves (Secret data, credential-named ConfigMap keys and env values, audit request bodies),
// so new fixture secrets are covered without editing this test.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { readSnapshot } from '../../src/collect/snapshot.js';
import { readAuditLogs } from '../../src/audit/reader.js';
import type { K8sObject } from '../../src/model/types.js';
import { startFixtureApiServer, type FixtureApiServer } from '../support/api-server.js';
import { REPO_ROOT, runKscan, type CliResult } from '../support/cli.js';

const DEMO = path.join(REPO_ROOT, 'fixtures', 'demo');
const FORMATS = 'text,json,sarif,html,pdf,junit,md';
/** Keys whose values are credentials by their name. */
const CREDENTIAL_KEY = /pass|secret|token|credential|api[-_]?key|access[-_]?key|private[-_]?key|auth/i;

/** Every secret value inside an object: Secret data (raw and decoded, also in last-applied annotations), credential-named ConfigMap keys and env entries. */
function candidatesOf(value: unknown, out: Set<string>): void {
  const add = (v: unknown) => {
    // Paths and trivial values are not credentials (TLS_KEY_FILE=/etc/tls/tls.key).
    if (typeof v === 'string' && v.length >= 8 && !v.startsWith('/')) out.add(v);
  };
  if (Array.isArray(value)) return value.forEach((v) => candidatesOf(v, out));
  if (!value || typeof value !== 'object') return;
  const object = value as Record<string, unknown>;
  if (object.kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      for (const v of Object.values((object[field] as Record<string, string>) ?? {})) {
        add(v);
        if (field === 'data') add(Buffer.from(String(v), 'base64').toString('utf8'));
      }
    }
    const lastApplied = (object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
    if (lastApplied) candidatesOf(JSON.parse(lastApplied), out);
  }
  if (object.kind === 'ConfigMap') for (const [key, v] of Object.entries((object.data as Record<string, string>) ?? {})) if (CREDENTIAL_KEY.test(key)) add(v);
  if (typeof object.name === 'string' && typeof object.value === 'string' && CREDENTIAL_KEY.test(object.name)) add(object.value);
  for (const v of Object.values(object)) candidatesOf(v, out);
}

async function outputsOf(dir: string): Promise<Record<string, string>> {
  const texts: Record<string, string> = {};
  for (const file of await readdir(dir)) {
    const full = path.join(dir, file);
    texts[file] = file.endsWith('.pdf') ? (await promisify(execFile)('pdftotext', ['-layout', full, '-'], { maxBuffer: 64 * 1024 * 1024 })).stdout : await readFile(full, 'utf8');
  }
  return texts;
}

function expectNoSecrets(candidates: Set<string>, outputs: Record<string, string>): void {
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(outputs)) {
    // pdftotext may break a long value across lines: compare without whitespace too.
    const flat = where.endsWith('.pdf') ? text.replace(/\s+/g, '') : text;
    for (const secret of candidates) if (text.includes(secret) || flat.includes(secret.replace(/\s+/g, ''))) leaks.push(`${where}: ${secret}`);
  }
  expect(leaks).to.deep.equal([]);
}

const streams = (name: string, run: CliResult) => ({ [`${name} stdout`]: run.stdout, [`${name} stderr`]: run.stderr });

describe('Secrets never reach an output', function () {
  this.timeout(180_000);
  let dir: string;
  let server: FixtureApiServer | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-secrets-'));
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the demo snapshot: no Secret value or credential-looking ConfigMap, env or audit value in any format, on stdout or stderr', async () => {
    const candidates = new Set<string>();
    for (const { object } of (await readSnapshot(DEMO)).objects) candidatesOf(object, candidates);
    await readAuditLogs([path.join(DEMO, 'audit')], (event) => {
      candidatesOf(event.requestObject, candidates);
      candidatesOf(event.responseObject, candidates);
    });
    // The fixtures really hold such values (ConfigMap pipeline-config, env CRM_DB_PASSWORD, audit spark-env).
    expect([...candidates]).to.include.members(['changeme-demo-not-real', 'demo-secret-key-not-real', 'demo-not-a-real-password']);

    const out = path.join(dir, 'demo');
    const cluster = await runKscan(['cluster', '--snapshot', DEMO, '--format', FORMATS, '--output-dir', out]);
    expect(cluster.code, cluster.stderr).to.be.oneOf([0, 1]);
    const audit = await runKscan(['audit', path.join(DEMO, 'audit'), '--format', 'json']);
    const auditText = await runKscan(['audit', path.join(DEMO, 'audit')]);
    const outputs = { ...(await outputsOf(out)), ...streams('cluster', cluster), ...streams('audit json', audit), ...streams('audit text', auditText) };
    expect(Object.keys(outputs).filter((f) => !f.includes(' ')).map((f) => path.extname(f)).sort()).to.deep.equal(['.html', '.json', '.md', '.pdf', '.sarif', '.txt', '.xml']);
    // The credential ConfigMap is reported (by key), so the check ran on the very objects holding the values.
    expect(outputs['audit json stdout']).to.contain('spark-env');
    expectNoSecrets(candidates, outputs);
  });

  it('a live cluster serving Secrets with data (and last-applied annotations), and manifests holding Secrets: nothing leaks, snapshots included', async () => {
    const value = (label: string) => `${label}-${Math.random().toString(36).slice(2)}-Zq9`;
    const [password, apiKey, token, cmPassword, envToken, lastAppliedPassword] = ['db-pass', 'api-key', 'sa-token', 'cm-pass', 'env-token', 'applied-pass'].map(value);
    const lastApplied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, data: { password: Buffer.from(lastAppliedPassword).toString('base64') }, stringData: { extra: lastAppliedPassword } });
    const objects: K8sObject[] = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } }, type: 'Opaque', data: { password: Buffer.from(password).toString('base64'), 'api-key': Buffer.from(apiKey).toString('base64') } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sa-token', namespace: 'shop', annotations: { 'kubernetes.io/service-account.name': 'default' } }, type: 'kubernetes.io/service-account-token', data: { token: Buffer.from(token).toString('base64') } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'shop' }, data: { DB_PASSWORD: cmPassword, LOG_LEVEL: 'debug' } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:latest', env: [{ name: 'API_TOKEN', value: envToken }], securityContext: { privileged: true } }] } } } },
    ];
    const candidates = new Set<string>();
    objects.forEach((o) => candidatesOf(o, candidates));
    expect([...candidates]).to.include.members([password, apiKey, token, cmPassword, envToken, lastAppliedPassword]);

    server = await startFixtureApiServer({ objects });
    candidates.add(server.token);
    const live = path.join(dir, 'live');
    const cluster = await runKscan(['cluster', '--kubeconfig', server.kubeconfigPath, '--format', FORMATS, '--output-dir', live]);
    expect(cluster.code, cluster.stderr).to.be.oneOf([0, 1]);
    const liveOutputs = await outputsOf(live);
    expect(liveOutputs[Object.keys(liveOutputs).find((f) => f.endsWith('.json'))!]).to.contain('"KS-WL-001"');

    const snapshotDir = path.join(dir, 'snapshot');
    const snapshot = await runKscan(['snapshot', '--kubeconfig', server.kubeconfigPath, '--out', snapshotDir]);
    expect(snapshot.code, snapshot.stderr).to.equal(0);
    const snapshotFiles: Record<string, string> = { 'snapshot meta.json': await readFile(path.join(snapshotDir, 'meta.json'), 'utf8') };
    for (const file of await readdir(path.join(snapshotDir, 'objects'))) snapshotFiles[`snapshot ${file}`] = await readFile(path.join(snapshotDir, 'objects', file), 'utf8');
    expect(snapshotFiles['snapshot core_v1_Secret.jsonl']).to.contain('"name":"db"');

    const manifests = path.join(dir, 'manifests.yaml');
    await writeFile(manifests, objects.map((o) => yaml.dump(o)).join('---\n'));
    const files = path.join(dir, 'files');
    const scanned = await runKscan(['manifests', manifests, '--format', FORMATS, '--output-dir', files]);
    expect(scanned.code, scanned.stderr).to.be.oneOf([0, 1]);

    expectNoSecrets(candidates, {
      ...prefixed('live', liveOutputs), ...streams('cluster', cluster), ...streams('snapshot', snapshot),
      ...prefixed('manifests', await outputsOf(files)), ...streams('manifests', scanned),
    });
    // A snapshot is the collected data, for replays: ConfigMaps and env values stay (checks read them),
    // Secret values and the token do not, whichever field or annotation carried them.
    const secretValues = new Set([password, apiKey, token, lastAppliedPassword, server.token].flatMap((v) => [v, Buffer.from(v).toString('base64')]));
    expectNoSecrets(secretValues, snapshotFiles);
    expect(snapshotFiles['snapshot core_v1_ConfigMap.jsonl']).to.contain(cmPassword);
  });
});

function prefixed(prefix: string, outputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [`${prefix} ${k}`, v]));
}
