// Base-image lineage on real image structure: OCI archives built from layer tars (test/support/oci.ts),
// several sharing base layers, scanned by the real trivy (package listing, offline). trivy says which
// layer installed each package; the vulnerabilities are recorded in trivy's JSON shape on those
// packages (this trivy has no vulnerability database), so attribution runs on real Layer.DiffIDs.
import { expect } from 'chai';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { realTrivy } from '../support/trivy.js';
import { runKscan } from '../support/cli.js';
import { alpineBaseLayer, buildOciImage, type BuiltImage, type LayerFiles } from '../support/oci.js';
import { parseReportText } from '../../src/images/ingest.js';
import { computeLineage, type LineageInput } from '../../src/images/lineage.js';
import { analyzeImages } from '../../src/images/analyze.js';
import type { ImageReport } from '../../src/images/report.js';

const ALPINE_PKGS: [string, string][] = [['musl', '1.2.4_git20230717-r4'], ['busybox', '1.36.1-r15'], ['libcrypto3', '3.1.4-r2']];
const npm = (dir: string, name: string, version: string): LayerFiles => ({ [`${dir}/node_modules/${name}/package.json`]: JSON.stringify({ name, version, license: 'MIT' }) });

/** Recorded advisories, keyed by package name: what trivy with a database adds to each matching package. */
const ADVISORIES: Record<string, { VulnerabilityID: string; FixedVersion?: string; Severity: string; V3Score: number }[]> = {
  libcrypto3: [{ VulnerabilityID: 'CVE-2024-5535', FixedVersion: '3.1.6-r0', Severity: 'CRITICAL', V3Score: 9.1 }],
  'cross-spawn': [{ VulnerabilityID: 'CVE-2024-21538', FixedVersion: '7.0.5', Severity: 'HIGH', V3Score: 7.5 }],
  express: [
    { VulnerabilityID: 'CVE-2024-29041', FixedVersion: '4.19.2', Severity: 'MEDIUM', V3Score: 6.1 },
    { VulnerabilityID: 'CVE-2024-43796', FixedVersion: '4.20.0', Severity: 'LOW', V3Score: 5 },
  ],
  'left-pad': [{ VulnerabilityID: 'GHSA-test-0001', Severity: 'HIGH', V3Score: 7.2 }],
};

interface Scanned {
  built: BuiltImage;
  name: string;
  /** trivy's JSON for the archive, with RepoDigests and vulnerabilities recorded as a registry scan would print them. */
  json: Record<string, unknown>;
  report: ImageReport;
}

describe('base-image lineage on real OCI images (real trivy)', function () {
  this.timeout(300_000);
  let dir: string;
  const images: Record<string, Scanned> = {};

  before(async function () {
    const found = await realTrivy();
    if (!found.path) {
      console.log(`    skipping lineage tests on real images: ${found.reason}`);
      this.skip();
    }
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-lineage-'));
    const alpine = alpineBaseLayer(ALPINE_PKGS);
    const nodeRuntime = { ...alpineBaseLayer([...ALPINE_PKGS, ['nodejs', '20.11.1-r0']]), ...npm('usr/lib/node_modules/npm', 'cross-spawn', '7.0.3') };
    const specs = [
      // The runtime everyone builds on; api names it by labels (name and digest), worker does not.
      { name: 'example/node-runtime:20', layers: [alpine, nodeRuntime] },
      { name: 'example/api:1.0', layers: [alpine, nodeRuntime, { ...npm('srv/api', 'express', '4.18.2') }], base: true },
      { name: 'example/worker:1.0', layers: [alpine, nodeRuntime, npm('srv/worker', 'left-pad', '1.1.0'), { 'srv/worker/run.sh': 'echo' }] },
      { name: 'example/tool:2.0', layers: [alpine, { 'usr/local/bin/tool': '#!/bin/sh\n' }] },
    ];
    const cacheDir = path.join(dir, 'trivy-cache');
    let runtimeDigest = '';
    for (const spec of specs) {
      const labels: Record<string, string> = spec.base ? { 'org.opencontainers.image.base.name': 'example/node-runtime:20', 'org.opencontainers.image.base.digest': runtimeDigest } : {};
      const built = await buildOciImage({ name: spec.name, layers: spec.layers, labels }, path.join(dir, 'archives'));
      if (spec.name === 'example/node-runtime:20') runtimeDigest = built.manifestDigest;
      const run = await execa(found.path!, ['image', '--format', 'json', '--quiet', '--list-all-pkgs', '--scanners', 'license', '--offline-scan', '--cache-dir', cacheDir, '--input', built.archive]);
      const json = JSON.parse(run.stdout) as Record<string, unknown>;
      const repo = spec.name.split(':')[0];
      json.ArtifactName = spec.name;
      (json.Metadata as Record<string, unknown>).RepoDigests = [`${repo}@${built.manifestDigest}`];
      for (const result of json.Results as Record<string, unknown>[]) {
        const vulns = ((result.Packages as Record<string, unknown>[] | undefined) ?? []).flatMap((p) =>
          (ADVISORIES[p.Name as string] ?? []).map((a) => ({
            VulnerabilityID: a.VulnerabilityID, PkgName: p.Name, InstalledVersion: p.Version, ...(a.FixedVersion ? { FixedVersion: a.FixedVersion } : {}),
            Severity: a.Severity, CVSS: { nvd: { V3Score: a.V3Score } }, Layer: p.Layer,
          })),
        );
        if (vulns.length) result.Vulnerabilities = vulns;
      }
      const text = JSON.stringify(json);
      images[spec.name] = { built, name: spec.name, json, report: parseReportText(text, `${spec.name}.json`) };
    }
  });

  const input = (s: Scanned, withLabels = true): LineageInput => ({
    id: s.name, name: s.name, diffIds: s.report.diffIds, digests: s.report.digests, os: s.report.os,
    ...(withLabels && s.report.baseName ? { baseName: s.report.baseName } : {}), ...(withLabels && s.report.baseDigest ? { baseDigest: s.report.baseDigest } : {}),
  });

  it('trivy reports the layer each package came from, and the labels naming the base', () => {
    const api = images['example/api:1.0'];
    expect(api.report.diffIds).to.deep.equal(api.built.diffIds);
    expect(api.report.baseName).to.equal('example/node-runtime:20');
    expect(api.report.baseDigest).to.equal(images['example/node-runtime:20'].built.manifestDigest);
    const layerOf = Object.fromEntries(api.report.vulnerabilities.map((v) => [v.pkg, v.layer]));
    expect(layerOf).to.deep.equal({ libcrypto3: api.built.diffIds[0], 'cross-spawn': api.built.diffIds[1], express: api.built.diffIds[2] });
  });

  it('(b) finds bases from shared layer prefixes alone, nested, without names or labels', () => {
    const fleet = ['example/api:1.0', 'example/worker:1.0', 'example/tool:2.0'].map((n) => input(images[n], false));
    const lineage = computeLineage(fleet);
    const api = lineage.chains.get('example/api:1.0')!;
    expect(api.map((b) => b.layers)).to.deep.equal([1, 2]);
    expect(api.every((b) => b.via.length === 1 && b.via[0] === 'fleet')).to.equal(true);
    expect(api[0].name).to.equal(`unnamed base ${images['example/api:1.0'].built.diffIds[0].slice(7, 19)} (alpine 3.19.1, 1 layer)`);
    expect(api[1].parent).to.equal(api[0].key);
    // worker shares both bases with api (the same objects); tool shares only the alpine layer.
    expect(lineage.chains.get('example/worker:1.0')).to.deep.equal(api);
    expect(lineage.chains.get('example/tool:2.0')).to.deep.equal([api[0]]);
    expect(lineage.bases.size).to.equal(2);
  });

  it('(a) names a base from the base.name / base.digest labels, (c) from the catalogue', () => {
    const catalogue = [{ name: 'alpine:3.19', diffIds: [images['example/tool:2.0'].built.diffIds[0]] }];
    // Only api carries labels; the runtime itself is not in the fleet, so its name comes from the label.
    const lineage = computeLineage(['example/api:1.0', 'example/worker:1.0', 'example/tool:2.0'].map((n) => input(images[n])), catalogue);
    const [alpine, runtime] = lineage.chains.get('example/worker:1.0')!;
    expect(alpine).to.include({ name: 'alpine:3.19', layers: 1 });
    expect(alpine.via).to.have.members(['catalogue', 'fleet']);
    expect(runtime).to.include({ name: 'example/node-runtime:20', layers: 2 });
    expect(runtime.via).to.have.members(['fleet', 'annotation']);
    // With the runtime image scanned too, base.digest finds it by digest and its own layers delimit the base.
    const withRuntime = computeLineage(['example/node-runtime:20', 'example/api:1.0'].map((n) => input(images[n])));
    const chain = withRuntime.chains.get('example/api:1.0')!;
    expect(chain.map((b) => [b.name, b.layers])).to.deep.equal([['example/node-runtime:20', 2]]);
    expect(chain[0].via).to.include('annotation');
    // A label alone, with no layers shared by anything, still names the base (layers unknown).
    const alone = computeLineage([input(images['example/api:1.0'])]).chains.get('example/api:1.0')!;
    expect(alone.map((b) => [b.name, b.layers, b.via.join()])).to.deep.equal([['example/node-runtime:20', 0, 'annotation']]);
  });

  it('attributes every vulnerability to the base that introduced it or to the image', () => {
    const reports = Object.values(images).map((s) => s.report);
    const catalogue = [{ name: 'alpine:3.19', diffIds: [images['example/tool:2.0'].built.diffIds[0]] }];
    const analysis = analyzeImages([], reports, { catalogue });
    const origins = (name: string) =>
      Object.fromEntries(analysis.images.find((i) => i.name === name)!.vulnerabilities.map((v) => [v.id, v.origin.kind === 'base' ? v.origin.base.name : v.origin.kind]));
    expect(origins('example/api:1.0')).to.deep.equal({ 'CVE-2024-5535': 'alpine:3.19', 'CVE-2024-21538': 'example/node-runtime:20', 'CVE-2024-29041': 'image', 'CVE-2024-43796': 'image' });
    expect(origins('example/worker:1.0')).to.deep.equal({ 'CVE-2024-5535': 'alpine:3.19', 'CVE-2024-21538': 'example/node-runtime:20', 'GHSA-test-0001': 'image' });
    expect(origins('example/tool:2.0')).to.deep.equal({ 'CVE-2024-5535': 'alpine:3.19' });
    // The runtime is a whole image in the fleet: its own layers are its own, its alpine layer inherited.
    expect(origins('example/node-runtime:20')).to.deep.equal({ 'CVE-2024-5535': 'alpine:3.19', 'CVE-2024-21538': 'image' });
  });

  it('kscan images shows the attribution end to end from manifests and recorded results', async () => {
    const results = path.join(dir, 'results');
    const manifests = path.join(dir, 'manifests');
    await mkdir(results, { recursive: true });
    await mkdir(manifests, { recursive: true });
    const docs: string[] = [];
    for (const s of Object.values(images)) {
      await writeFile(path.join(results, `${s.name.replace(/[/:]/g, '_')}.json`), JSON.stringify(s.json));
      if (s.name.includes('runtime')) continue;
      const app = s.name.split('/')[1].split(':')[0];
      docs.push(`apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${app}, namespace: prod}\nspec:\n  replicas: 3\n  selector: {matchLabels: {app: ${app}}}\n  template:\n    metadata: {labels: {app: ${app}}}\n    spec:\n      containers:\n      - name: ${app}\n        image: ${s.name.split(':')[0]}@${s.built.manifestDigest}\n`);
    }
    await writeFile(path.join(manifests, 'apps.yaml'), docs.join('---\n'));
    const catalogue = path.join(dir, 'catalogue.yaml');
    await writeFile(catalogue, `bases:\n  - name: alpine:3.19\n    diffIds: ["${images['example/tool:2.0'].built.diffIds[0]}"]\n`);
    const cve = await runKscan(['images', '--manifests', manifests, '--image-results', results, '--base-catalogue', catalogue, '--cve', 'CVE-2024-21538']);
    expect(cve.stderr).to.equal('');
    expect(cve.code).to.equal(0);
    const lines = cve.stdout.split('\n');
    expect(lines[0]).to.match(/^CVE-2024-21538 high \(CVSS 7\.5\) in cross-spawn 7\.0\.3, fixed in 7\.0\.5: 3 image\(s\), 2 workload\(s\)/);
    expect(lines).to.include('  example/api:1.0 (inherited from example/node-runtime:20)');
    expect(lines).to.include('  example/worker:1.0 (inherited from example/node-runtime:20)');
    expect(lines).to.include('  example/node-runtime:20 (added by this image)');
    expect(lines).to.include('    Deployment/prod/api — 3 replica(s)');
    const json = JSON.parse((await runKscan(['images', '--manifests', manifests, '--image-results', results, '--base-catalogue', catalogue, '--format', 'json'])).stdout);
    const api = json.images.find((i: { name: string }) => i.name === 'example/api:1.0');
    expect(api).to.include({ digest: images['example/api:1.0'].built.manifestDigest, replicas: 3, inherited: 2, added: 2 });
    expect(api.bases).to.deep.equal(['alpine:3.19', 'example/node-runtime:20']);
    const alpine = json.bases.find((b: { name: string }) => b.name === 'alpine:3.19');
    expect(alpine).to.include({ images: 4, workloads: 3, replicas: 9, fixableCriticalHigh: 1 });
    expect(alpine.fixes).to.deep.equal([{ pkg: 'libcrypto3', installed: '3.1.4-r2', fixed: '3.1.6-r0', ids: ['CVE-2024-5535'] }]);
    expect(json.bases.find((b: { name: string }) => b.name === 'example/node-runtime:20').parent).to.equal('alpine:3.19');
  });
});
