// Image risk as README "Image risk" documents it: severity/CVSS × fix availability, weighted by how
// much runs the image (replicas) and how exposed it is (Service/Ingress, privileged, host namespaces),
// and the "fix these base images first" ranking. Reports are trivy JSON in its recorded shape.
import { expect } from 'chai';
import { Inventory } from '../../src/inventory/inventory.js';
import type { K8sObject } from '../../src/model/types.js';
import { buildFleet } from '../../src/images/fleet.js';
import { parseImageReport } from '../../src/images/report.js';
import { analyzeImages, exposureFactor, rankBases, vulnerabilityWeight, workloadRisks } from '../../src/images/analyze.js';
import { imageFindings } from '../../src/images/findings.js';

const layer = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const digest = (n: number) => `sha256:${(n + 0xd000).toString(16).padStart(64, 'd')}`;
type Vuln = [id: string, pkg: string, severity: string, fixed: string | null, cvss: number | null, layerIndex: number];

function trivyJson(repo: string, n: number, diffIds: string[], vulns: Vuln[]) {
  return {
    SchemaVersion: 2, ArtifactName: `${repo}@${digest(n)}`, ArtifactType: 'container_image',
    Metadata: { OS: { Family: 'debian', Name: '12.5' }, ImageID: digest(n + 100), DiffIDs: diffIds, RepoDigests: [`${repo}@${digest(n)}`] },
    Results: [{
      Target: repo, Class: 'os-pkgs', Type: 'debian',
      Vulnerabilities: vulns.map(([id, pkg, severity, fixed, cvss, index]) => ({
        VulnerabilityID: id, PkgName: pkg, InstalledVersion: '1.0', ...(fixed ? { FixedVersion: fixed } : {}), Severity: severity,
        ...(cvss ? { CVSS: { nvd: { V3Score: cvss } } } : {}), Layer: { DiffID: diffIds[index] },
      })),
    }],
  };
}

function deployment(name: string, image: string, replicas: number, extra: Record<string, unknown> = {}): K8sObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'prod' },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { ...extra, containers: [{ name, image }] } } },
  };
}

describe('image risk and the base images to fix first', () => {
  // Two bases: debian (1 layer) under python (2 layers); four images; one unused in the cluster.
  const debian = [layer(1)];
  const python = [layer(1), layer(2)];
  const vulnsDebian: Vuln[] = [['CVE-A', 'libssl3', 'CRITICAL', '3.0.14', 9.1, 0], ['CVE-B', 'zlib1g', 'CRITICAL', null, 9.8, 0], ['CVE-C', 'libc6', 'HIGH', '2.36-9+deb12u3', null, 0]];
  const reports = [
    trivyJson('ghcr.io/x/web', 1, [...python, layer(10)], [...vulnsDebian, ['CVE-P', 'setuptools', 'HIGH', '70.0.0', 8.8, 1], ['CVE-W', 'flask', 'MEDIUM', '3.0.3', 5.4, 2]]),
    trivyJson('ghcr.io/x/jobs', 2, [...python, layer(11)], [...vulnsDebian, ['CVE-P', 'setuptools', 'HIGH', '70.0.0', 8.8, 1]]),
    trivyJson('ghcr.io/x/agent', 3, [...debian, layer(12)], [...vulnsDebian, ['CVE-G', 'stdlib', 'LOW', null, null, 1]]),
    trivyJson('ghcr.io/x/db', 4, [...debian, layer(13)], [['CVE-A', 'libssl3', 'CRITICAL', '3.0.14', 9.1, 0]]),
  ].map((doc, i) => parseImageReport(doc, `r${i}.json`));
  const objects: K8sObject[] = [
    deployment('web', `ghcr.io/x/web@${digest(1)}`, 4),
    deployment('jobs', `ghcr.io/x/jobs@${digest(2)}`, 1),
    deployment('agent', `ghcr.io/x/agent@${digest(3)}`, 1, { hostNetwork: true }),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'prod' }, spec: { type: 'ClusterIP', selector: { app: 'web' } } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'prod' }, spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] } },
  ];
  const fleet = buildFleet(new Inventory(objects.map((object) => ({ object }))));
  const analysis = analyzeImages(fleet, reports);
  const image = (name: string) => analysis.images.find((i) => i.name.startsWith(name))!;

  it('weights a vulnerability by CVSS (else a severity score) and halves it without a fix', () => {
    expect(vulnerabilityWeight({ id: 'a', pkg: 'p', installed: '1', severity: 'critical', cvss: 9.1, fixed: '2' })).to.equal(9.1);
    expect(vulnerabilityWeight({ id: 'a', pkg: 'p', installed: '1', severity: 'critical', cvss: 9.8 })).to.equal(4.9);
    expect(vulnerabilityWeight({ id: 'a', pkg: 'p', installed: '1', severity: 'high', fixed: '2' })).to.equal(8);
    expect(vulnerabilityWeight({ id: 'a', pkg: 'p', installed: '1', severity: 'low' })).to.equal(1.25);
  });

  it('reads exposure from Ingress → Service → pods and from host namespaces', () => {
    const web = image('ghcr.io/x/web').workloads[0];
    expect(web.exposure.exposedBy).to.deep.equal(['Ingress/web']);
    expect(exposureFactor(web)).to.equal(2);
    const agent = image('ghcr.io/x/agent').workloads[0];
    expect(agent.exposure.hostAccess).to.deep.equal(['hostNetwork']);
    expect(exposureFactor(agent)).to.equal(2);
    expect(exposureFactor(image('ghcr.io/x/jobs').workloads[0])).to.equal(1);
  });

  it('scores an image as Σ weight × log2(1 + reach), reach = Σ replicas × exposure', () => {
    const web = image('ghcr.io/x/web');
    expect(web.reach).to.equal(4 * 2);
    const weights = web.vulnerabilities.reduce((s, v) => s + v.weight, 0);
    expect(weights).to.be.closeTo(9.1 + 4.9 + 8 + 8.8 + 5.4, 1e-9);
    expect(web.risk).to.equal(Math.round(weights * Math.log2(1 + 8) * 10) / 10);
    // Same vulnerabilities (less one medium), less reach: lower risk. An unused image still has a (minimal) score.
    expect(image('ghcr.io/x/jobs').risk).to.be.lessThan(web.risk);
    const db = image('ghcr.io/x/db');
    expect(db.workloads).to.deep.equal([]);
    expect(db.risk).to.equal(9.1);
    expect(analysis.images[0].name).to.match(/^ghcr\.io\/x\/web/);
  });

  it('scores workloads by weight × exposure × log2(1 + replicas)', () => {
    const risks = workloadRisks(analysis);
    expect(risks.map((r) => r.workload)).to.deep.equal(['Deployment/prod/web', 'Deployment/prod/agent', 'Deployment/prod/jobs']);
    const agent = risks.find((r) => r.workload === 'Deployment/prod/agent')!;
    expect(agent.risk).to.equal(Math.round((9.1 + 4.9 + 8 + 1.25) * 2 * Math.log2(2) * 10) / 10);
  });

  it('ranks base images: what upgrading each removes, from how many workloads, with the fixed versions', () => {
    const ranking = rankBases(analysis);
    const [first, second] = ranking;
    expect(first.base.layers).to.equal(1);
    expect(first.images.length).to.equal(4);
    expect(first.workloads).to.deep.equal(['Deployment/prod/agent', 'Deployment/prod/jobs', 'Deployment/prod/web']);
    expect(first.replicas).to.equal(6);
    // CVE-A and CVE-C have fixes; CVE-B (critical, no fix) is counted but not removable by an upgrade.
    expect(first.fixableSerious).to.equal(2);
    expect(first.vulnerabilities.critical).to.equal(2);
    expect(first.fixes).to.deep.equal([
      { pkg: 'libc6', installed: '1.0', fixed: '2.36-9+deb12u3', ids: ['CVE-C'] },
      { pkg: 'libssl3', installed: '1.0', fixed: '3.0.14', ids: ['CVE-A'] },
    ]);
    expect(second.base.layers).to.equal(2);
    expect(second.base.parent).to.equal(first.base.key);
    expect(second.fixableSerious).to.equal(1);
    expect(second.fixes.map((f) => f.ids)).to.deep.equal([['CVE-P']]);
    expect(first.risk).to.be.greaterThan(second.risk);
  });

  it('raises findings per workload container by class, and none for an image no workload runs', () => {
    const findings = imageFindings(analysis.images);
    const web = findings.filter((f) => f.object.name === 'web');
    expect(web.map((f) => f.checkId).sort()).to.deep.equal(['KS-IMG-001', 'KS-IMG-002', 'KS-IMG-003']);
    expect(web.find((f) => f.checkId === 'KS-IMG-001')!.message).to.match(/1 critical vulnerability with a fix: CVE-A \(libssl3 1\.0 → 3\.0\.14\); 1 inherited from base /);
    expect(web[0].path).to.equal('spec.template.spec.containers[0].image');
    expect(findings.some((f) => f.object.name === 'db')).to.equal(false);
  });
});
