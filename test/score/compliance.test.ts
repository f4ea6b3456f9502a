import { expect } from 'chai';
import { mkdtemp, mkdir, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadFrameworks, loadFrameworksFrom, FRAMEWORKS_DIR, resolveFrameworks } from '../../src/checks/frameworks.js';
import { loadChecks } from '../../src/checks/loader.js';
import { scan } from '../../src/scan/scan.js';
import { complianceExtension, scoreOf } from '../../src/score/compliance.js';
import type { Collection, K8sObject, KindCoverage } from '../../src/model/types.js';
import type { ControlResult, FrameworkResult, ScanResult } from '../../src/scan/result.js';
import { schemaErrors } from '../support/schema.js';

const MAPPING_KEYS = { cis: 'cis', pss: 'pss-restricted', nsa: 'nsa', mitre: 'mitre' } as const;

function ns(name: string): K8sObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

function deployment(name: string, namespace: string, securityContext: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0', securityContext }] } } },
  };
}

const networkPolicy = (namespace: string): K8sObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'default-deny', namespace },
  spec: { podSelector: {}, policyTypes: ['Ingress'] },
});

function coverageFor(objects: K8sObject[], extra: KindCoverage[] = []): KindCoverage[] {
  const kinds = new Map<string, KindCoverage>();
  for (const o of objects) {
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
    const entry = kinds.get(o.kind) ?? { group, version, kind: o.kind, status: 'collected' as const, count: 0 };
    entry.count++;
    kinds.set(o.kind, entry);
  }
  // Discovery lists every servable kind, found or not.
  for (const [group, kind] of [['networking.k8s.io', 'Ingress'], ['networking.k8s.io', 'NetworkPolicy'], ['', 'Service'], ['', 'Node']] as const) {
    if (!kinds.has(kind)) kinds.set(kind, { group, version: 'v1', kind, status: 'collected', count: 0 });
  }
  for (const entry of extra) kinds.set(entry.kind, entry);
  return [...kinds.values()];
}

function collection(objects: K8sObject[], options: { extraCoverage?: KindCoverage[]; platform?: string; serverVersion?: string } = {}): Collection {
  return {
    source: 'snapshot',
    cluster: { name: 'test', ...(options.platform ? { platform: options.platform } : {}), ...(options.serverVersion ? { serverVersion: options.serverVersion } : {}) },
    collectedAt: '2026-01-01T00:00:00.000Z',
    objects: objects.map((object) => ({ object })),
    coverage: { kinds: coverageFor(objects, options.extraCoverage), errors: [] },
  };
}

async function scored(input: Collection, frameworks: string[] = [], checksDirs: string[] = []): Promise<ScanResult> {
  return scan(input, { target: { type: 'snapshot', name: 'test' }, frameworks, checksDirs, extensions: [complianceExtension()] });
}

function control(result: ScanResult, framework: string, id: string): ControlResult {
  const found = result.compliance!.find((f) => f.id === framework)!.controls.find((c) => c.id === id);
  if (!found) throw new Error(`no control ${framework} ${id}`);
  return found;
}

const SELF_MANAGED = [ns('shop'), ns('quiet'), deployment('web', 'shop', { privileged: true }), deployment('api', 'quiet'), networkPolicy('shop')];

describe('framework catalogues', () => {
  it('load and validate: five frameworks, unique control ids, CIS v1.12 complete', () => {
    const frameworks = loadFrameworks();
    expect([...frameworks.keys()]).to.deep.equal(['cis', 'mitre', 'nsa', 'pss-baseline', 'pss-restricted']);
    for (const framework of frameworks.values()) {
      const ids = framework.controls.map((c) => c.id);
      expect(new Set(ids).size, framework.id).to.equal(ids.length);
      for (const c of framework.controls) expect(framework.sections.map((s) => s.id), `${framework.id} ${c.id}`).to.include(c.section);
    }
    const cis = frameworks.get('cis')!;
    expect(cis.version).to.equal('v1.12.0');
    expect(cis.controls).to.have.length(131);
    expect(cis.sections.map((s) => s.id)).to.deep.equal(['1.1', '1.2', '1.3', '1.4', '2', '3.1', '3.2', '4.1', '4.2', '4.3', '5.1', '5.2', '5.3', '5.4', '5.5', '5.6']);
    for (const c of cis.controls) {
      expect(c.level, c.id).to.match(/^L[12]$/);
      expect(c.automated, c.id).to.be.a('boolean');
      expect(c.audit, c.id).to.be.a('string');
    }
    expect(cis.controls.find((c) => c.id === '1.2.30')?.title).to.equal('Ensure that the --service-account-extend-token-expiration parameter is set to false');
    expect(cis.controls.find((c) => c.id === '5.6.4')?.automated).to.equal(false);
    expect(cis.controls.filter((c) => c.scope === 'control-plane').map((c) => c.section)).to.satisfy((s: string[]) => s.every((id) => /^(1\.|2|3\.)/.test(id)));
  });

  it('pss-restricted includes every baseline control, and only restricted adds its own', () => {
    const baseline = loadFrameworks().get('pss-baseline')!;
    const restricted = loadFrameworks().get('pss-restricted')!;
    expect(baseline.controls).to.have.length(11);
    expect(restricted.controls).to.have.length(17);
    expect(restricted.controls.slice(0, 11).map((c) => c.id)).to.deep.equal(baseline.controls.map((c) => c.id));
    expect(restricted.controls.slice(11).every((c) => c.id.startsWith('restricted/'))).to.equal(true);
  });

  it('every control a built-in check names exists in its catalogue (the check file is the mapping)', async () => {
    const { checks, errors } = await loadChecks();
    expect(errors).to.deep.equal([]);
    const frameworks = loadFrameworks();
    for (const check of checks) {
      expect(Object.keys(check.controls), check.id).to.not.include('cis-k8s-1.10');
      for (const [key, framework] of Object.entries(MAPPING_KEYS)) {
        const known = new Set(frameworks.get(framework)!.controls.map((c) => c.id));
        for (const id of check.controls[key] ?? []) expect(known.has(id), `${check.id} ${key}: ${id}`).to.equal(true);
      }
    }
  });

  it('rejects a catalogue with a duplicate control id or an unknown field, naming the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-fw-'));
    await writeFile(path.join(dir, 'dup.yaml'), 'id: dup\ntitle: D\nversion: "1"\nmappingKey: dup\nsections:\n  - id: a\n    title: A\n    controls:\n      - { id: x, title: "first" }\n      - { id: x, title: "again" }\n');
    expect(() => loadFrameworksFrom(dir)).to.throw(/dup\.yaml: control id x appears twice/);
    const other = await mkdtemp(path.join(tmpdir(), 'kscan-fw-'));
    await writeFile(path.join(other, 'odd.yaml'), 'id: odd\ntitle: O\nversion: "1"\nmappingKey: odd\ncolour: red\nsections: []\n');
    expect(() => loadFrameworksFrom(other)).to.throw(/odd\.yaml: .*unknown field "colour"/);
    // The shipped catalogues pass the same validation.
    expect(loadFrameworksFrom(FRAMEWORKS_DIR).size).to.equal(5);
  });

  it('resolves --framework values and rejects unknown ones', () => {
    expect(resolveFrameworks(['all'])).to.have.length(5);
    expect(() => resolveFrameworks(['cis-k8s-1.10'])).to.throw(/unknown framework "cis-k8s-1.10"/);
  });
});

describe('compliance scoring', () => {
  let result: ScanResult;
  before(async () => {
    result = await scored(collection(SELF_MANAGED));
  });

  it('reports every control of every framework when no --framework is given', () => {
    expect(result.compliance!.map((f) => f.id)).to.deep.equal(['cis', 'mitre', 'nsa', 'pss-baseline', 'pss-restricted']);
    for (const framework of result.compliance!) expect(framework.controls.length, framework.id).to.equal(loadFrameworks().get(framework.id)!.controls.length);
    expect(schemaErrors('result.schema.json', result)).to.deep.equal([]);
  });

  it('fail: a finding names the control; the failing object count is given', () => {
    const privileged = control(result, 'cis', '5.2.2');
    expect(privileged).to.deep.include({ status: 'fail', findings: 1, objects: 1, checks: ['KS-WL-001'], level: 'L1', automated: false, scope: 'namespace' });
  });

  it('pass: its checks looked at objects and found nothing', () => {
    expect(control(result, 'cis', '5.2.3')).to.deep.include({ status: 'pass', findings: 0 });
    expect(control(result, 'pss-baseline', 'baseline/host-namespaces').status).to.equal('pass');
  });

  it('manual: no check decides it, and the reason says what to check', () => {
    const userCertificates = control(result, 'cis', '3.1.1');
    expect(userCertificates.status).to.equal('manual');
    expect(userCertificates.checks).to.deep.equal([]);
    expect(userCertificates.reason).to.match(/OIDC or another external provider/);
  });

  it('not-applicable: nothing of the kinds its checks match exists', () => {
    const tls = control(result, 'nsa', 'nsa-2.5');
    expect(tls.status).to.equal('not-applicable');
    expect(tls.reason).to.match(/no Ingress/);
  });

  it('cross-object check: namespace without NetworkPolicy fails only where none exists', () => {
    const policies = control(result, 'cis', '5.3.2');
    expect(policies).to.deep.include({ status: 'fail', findings: 1, checks: ['KS-NET-004'] });
    const finding = result.findings.find((f) => f.checkId === 'KS-NET-004')!;
    expect(finding.object).to.deep.include({ kind: 'Namespace', name: 'quiet' });
  });

  it('not-evaluated: a kind its checks need was forbidden', async () => {
    const forbidden = await scored(collection(SELF_MANAGED.filter((o) => o.kind !== 'NetworkPolicy'), { extraCoverage: [{ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', status: 'forbidden', count: 0, error: 'networkpolicies is forbidden' }] }), ['cis']);
    const policies = control(forbidden, 'cis', '5.3.2');
    expect(policies.status).to.equal('not-evaluated');
    expect(policies.reason).to.match(/NetworkPolicy \(forbidden\)/);
    expect(forbidden.findings.filter((f) => f.checkId === 'KS-NET-004')).to.have.length(0);
    expect(forbidden.compliance!.map((f) => f.id)).to.deep.equal(['cis']);
    expect(forbidden.compliance![0].score.notEvaluated).to.be.greaterThan(0);
  });

  it('not-evaluated: a node control whose evidence is missing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-node-check-'));
    await mkdir(path.join(dir, 'node'));
    await writeFile(
      path.join(dir, 'node', 'X-NODE-001.yaml'),
      'id: X-NODE-001\ntitle: Kubelet anonymous auth\nseverity: high\ncategory: node\nmatch: { kinds: [NodeEvidence] }\nassert: "!object.kubelet.config.authentication.anonymous.enabled"\nmessage: anonymous\nremediation: Disable anonymous authentication.\ncontrols: { cis: ["4.2.1"] }\n',
    );
    const withoutEvidence = await scored(collection(SELF_MANAGED), ['cis'], [dir]);
    const kubelet = control(withoutEvidence, 'cis', '4.2.1');
    expect(kubelet.status).to.equal('not-evaluated');
    expect(kubelet.checks).to.include('X-NODE-001');
    expect(kubelet.reason).to.match(/no node evidence/);
  });

  it('provider: control-plane controls on a managed platform, never failures; workload controls still count', async () => {
    const eksNode: K8sObject = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'ip-10-0-1-23.eu-west-1.compute.internal', labels: { 'eks.amazonaws.com/nodegroup': 'default' } },
      spec: { providerID: 'aws:///eu-west-1a/i-0abc' },
    };
    const eks = await scored(collection([...SELF_MANAGED, eksNode]), ['cis']);
    const cis = eks.compliance![0];
    expect(cis.controls).to.have.length(131);
    const byStatus = (status: string) => cis.controls.filter((c) => c.status === status);
    const controlPlane = cis.controls.filter((c) => /^(1\.|2\.|3\.)/.test(c.id));
    expect(controlPlane).to.have.length(72);
    expect(controlPlane.every((c) => c.status === 'provider')).to.equal(true);
    expect(control(eks, 'cis', '1.2.1').reason).to.match(/Amazon EKS/);
    expect(byStatus('provider')).to.have.length(72);
    expect(cis.score.provider).to.equal(72);
    expect(control(eks, 'cis', '5.2.2').status).to.equal('fail');
    // The declared platform wins over guessing, and a self-managed platform has no provider controls.
    const kubeadm = await scored(collection([...SELF_MANAGED, eksNode], { platform: 'kubeadm' }), ['cis']);
    expect(kubeadm.compliance![0].score.provider).to.equal(0);
    const gke = await scored(collection(SELF_MANAGED, { serverVersion: 'v1.30.2-gke.1587003' }), ['cis']);
    expect(gke.compliance![0].score.provider).to.equal(72);
  });

  it('scores: passed / (passed + failed) × 100 per framework, section and namespace; the rest counted apart', () => {
    for (const framework of result.compliance!) {
      const s = framework.score;
      const total = s.passed + s.failed + s.manual + s.notApplicable + s.notEvaluated + s.provider;
      expect(total, framework.id).to.equal(framework.controls.length);
      expect(s.percent, framework.id).to.equal(s.passed + s.failed ? Math.round((s.passed / (s.passed + s.failed)) * 1000) / 10 : null);
      const sum = (field: 'passed' | 'failed' | 'manual') => framework.sections.reduce((n, section) => n + section.score[field], 0);
      expect([sum('passed'), sum('failed'), sum('manual')], framework.id).to.deep.equal([s.passed, s.failed, s.manual]);
    }
    const cis = result.compliance!.find((f) => f.id === 'cis') as FrameworkResult;
    const section52 = cis.sections.find((s) => s.id === '5.2')!.score;
    const failing52 = cis.controls.filter((c) => c.section === '5.2' && c.status === 'fail').map((c) => c.id);
    expect(failing52).to.include('5.2.2');
    expect(section52.failed).to.equal(failing52.length);
    // Per namespace: a namespaced control fails where its findings are, passes where its checks looked.
    const failedIn = (namespace: string) =>
      new Set(result.findings.filter((f) => (f.object.namespace ?? f.object.name) === namespace).flatMap((f) => f.controls['cis'] ?? []).filter((id) => cis.controls.find((c) => c.id === id)?.scope === 'namespace'));
    for (const namespace of ['shop', 'quiet']) {
      const score = cis.namespaces.find((n) => n.namespace === namespace)!.score;
      expect(score.failed, namespace).to.equal(failedIn(namespace).size);
      expect(score.percent, namespace).to.equal(Math.round((score.passed / (score.passed + score.failed)) * 1000) / 10);
    }
    expect(failedIn('quiet')).to.include('5.3.2');
    expect(failedIn('shop')).to.not.include('5.3.2');
    expect(failedIn('shop')).to.include('5.2.2');
    expect(failedIn('quiet')).to.not.include('5.2.2');
  });

  it('scoreOf applies the formula and excludes undecided controls', () => {
    expect(scoreOf(['pass', 'pass', 'fail', 'manual', 'not-applicable', 'not-evaluated', 'provider'])).to.deep.equal({ passed: 2, failed: 1, manual: 1, notApplicable: 1, notEvaluated: 1, provider: 1, percent: 66.7 });
    expect(scoreOf(['manual', 'provider']).percent).to.equal(null);
    expect(scoreOf(['pass']).percent).to.equal(100);
  });

  it('--framework cis runs only the checks mapped to CIS and scores only CIS', async () => {
    const only = await scored(collection(SELF_MANAGED), ['cis']);
    expect(only.compliance!.map((f) => f.id)).to.deep.equal(['cis']);
    expect(only.checks.every((c) => (c.controls['cis'] ?? []).length > 0)).to.equal(true);
  });

  it('custom catalogues directory copies validate like the built-in ones', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-fw-copy-'));
    await cp(FRAMEWORKS_DIR, dir, { recursive: true });
    expect([...loadFrameworksFrom(dir).keys()]).to.have.length(5);
  });
});
