import { expect } from 'chai';
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadCheckFile, loadChecks } from '../../src/checks/loader.js';
import { runChecks, renderMessage } from '../../src/checks/engine.js';
import { Inventory } from '../../src/inventory/inventory.js';
import type { CollectedObject, K8sObject } from '../../src/model/types.js';
import { fingerprint } from '../../src/findings/finding.js';

async function checkFrom(yaml: string, name = 'X-001'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kscan-check-'));
  await mkdir(path.join(dir, 'custom'));
  const file = path.join(dir, 'custom', `${name}.yaml`);
  await writeFile(file, yaml);
  return file;
}

const BASE = 'title: Test check\nseverity: high\ncategory: custom\nremediation: Fix it now.\nmessage: "{{item.name}} in {{object.metadata.name}}"\n';

function objects(...list: K8sObject[]): CollectedObject[] {
  return list.map((object) => ({ object }));
}

const cronJob: K8sObject = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'report', namespace: 'shop' },
  spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'main', image: 'app:latest' }] } } } } },
};

describe('check engine', () => {
  it('evaluates forEach containers over init and regular containers with real field paths', async () => {
    const check = await loadCheckFile(await checkFrom(`id: X-001\n${BASE}match: { workloads: true }\nforEach: containers\nassert: "!item.image.endsWith(':latest') && item.image.contains(':')"\npath: image\n`));
    const { findings } = runChecks(new Inventory(objects(cronJob)), [check]);
    expect(findings.map((f) => [f.path, f.message])).to.deep.equal([
      ['spec.jobTemplate.spec.template.spec.initContainers[0].image', 'init in report'],
      ['spec.jobTemplate.spec.template.spec.containers[0].image', 'main in report'],
    ]);
  });

  it('applies `when`, namespace filters and podSpec-relative paths', async () => {
    const check = await loadCheckFile(await checkFrom(`id: X-002\n${BASE}match: { workloads: true, excludeNamespaces: [kube-system] }\nwhen: "object.kind != 'Job'"\nassert: "!has(podSpec.hostNetwork) || !podSpec.hostNetwork"\npath: podSpec.hostNetwork\n`, 'X-002'));
    const pod = (name: string, namespace: string, kind = 'Pod'): K8sObject => ({ apiVersion: 'v1', kind, metadata: { name, namespace }, spec: kind === 'Pod' ? { hostNetwork: true, containers: [] } : { template: { spec: { hostNetwork: true, containers: [] } } } });
    const { findings } = runChecks(new Inventory(objects(pod('a', 'shop'), pod('b', 'kube-system'), pod('c', 'shop', 'Job'), pod('d', 'shop', 'Deployment'))), [check]);
    expect(findings.map((f) => `${f.object.kind}/${f.object.name} ${f.path}`)).to.deep.equal(['Pod/a spec.hostNetwork', 'Deployment/d spec.template.spec.hostNetwork']);
  });

  it('turns a runtime error into an evaluation error for that object, not a finding, and goes on', async () => {
    const check = await loadCheckFile(await checkFrom(`id: X-003\n${BASE}match: { kinds: [ConfigMap] }\nassert: "object.data.mode == 'safe'"\n`, 'X-003'));
    const good: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'good' }, data: { mode: 'safe' } };
    const bad: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nodata' } };
    const unsafe: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unsafe' }, data: { mode: 'open' } };
    const { findings, errors } = runChecks(new Inventory(objects(good, bad, unsafe)), [check]);
    expect(findings.map((f) => f.object.name)).to.deep.equal(['unsafe']);
    expect(errors).to.have.length(1);
    expect(errors[0].source).to.equal('X-003 on ConfigMap/nodata');
    expect(errors[0].message).to.match(/^evaluation failed: .*data/);
  });

  it('skips a check for the remaining objects once a second evaluation goes over the time budget, and says so', async function () {
    this.timeout(30_000);
    // Quadratic over a long list: every evaluation takes well over 250 ms, on every object.
    const check = await loadCheckFile(await checkFrom(`id: X-020\n${BASE}match: { kinds: [ConfigMap] }\nassert: "object.data.list.all(a, object.data.list.all(b, a + b >= 0))"\n`, 'X-020'));
    const list = Array.from({ length: 2000 }, (_, i) => i);
    const maps = ['a', 'b', 'c', 'd'].map((name): K8sObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'shop' }, data: { list } as never }));
    const { errors, evaluated } = runChecks(new Inventory(objects(...maps)), [check]);
    expect(evaluated.get('X-020')).to.equal(2);
    expect(errors.map((e) => e.source)).to.deep.equal(['X-020']);
    expect(errors[0].message).to.match(/^evaluations took \d+ and \d+ ms \(limit 250 ms each\); check skipped for the remaining objects$/);
  });

  it('rejects at load: bad CEL, unknown variables, unsafe regexes, schema violations, duplicate ids', async () => {
    const cases: [string, RegExp][] = [
      [`id: X-010\n${BASE}match: { kinds: [Pod] }\nassert: "object.spec.("\n`, /assert: /],
      [`id: X-011\n${BASE}match: { kinds: [Pod] }\nassert: "pod.spec.hostPID"\n`, /assert: .*pod/i],
      [`id: X-012\n${BASE}match: { kinds: [Pod] }\nassert: "object.metadata.name.matches('(a+)+$')"\n`, /backtrack catastrophically/],
      [`id: X-013\n${BASE}match: { kinds: [Pod] }\nassert: "true"\nseverity_typo: high\n`, /unknown field "severity_typo"/],
      [`id: X-014\ntitle: T\nseverity: urgent\ncategory: custom\nremediation: Fix it now.\nmessage: m\nmatch: { kinds: [Pod] }\nassert: "true"\n`, /severity: must be one of critical, high, medium, low, info/],
      [`id: X-015\n${BASE}match: {}\nassert: "true"\n`, /needs workloads: true, a list of kinds, or auditEvents/],
    ];
    for (const [yaml, pattern] of cases) {
      let message = '';
      await loadCheckFile(await checkFrom(yaml)).catch((error: Error) => (message = error.message));
      expect(message, yaml).to.match(pattern);
    }
    const dir = path.dirname(path.dirname(await checkFrom(`id: KS-WL-001\n${BASE}match: { kinds: [Pod] }\nassert: "true"\n`)));
    const { errors } = await loadChecks([dir]);
    expect(errors.map((e) => e.message).join('\n')).to.match(/duplicate check id KS-WL-001 \(already defined in .*checks\/workload\/KS-WL-001.yaml\)/);
  });

  it('renders message templates and leaves unknown references empty', () => {
    expect(renderMessage('{{ item.name }} on {{object.metadata.name}}{{item.missing}}', { item: { name: 'c' }, object: { metadata: { name: 'o' } } })).to.equal('c on o');
  });

  it('gives a finding a fingerprint that ignores apiVersion and uid but not the path', () => {
    const a = fingerprint('KS-WL-001', { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', uid: '1' }, 'spec.x');
    const b = fingerprint('KS-WL-001', { apiVersion: 'apps/v1beta2', kind: 'Deployment', namespace: 'shop', name: 'web', uid: '2' }, 'spec.x');
    const c = fingerprint('KS-WL-001', { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' }, 'spec.y');
    expect(a).to.equal(b);
    expect(a).not.to.equal(c);
    expect(a).to.match(/^[0-9a-f]{32}$/);
  });
});
