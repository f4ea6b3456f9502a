// `kscan images` through the real CLI: the list (digest, workloads, replicas) against the demo
// snapshot's own pods, the views (top vulnerable, CVE → images → workloads, zombies, ignore list,
// latest tag), bad input (truncated, foreign, SPDX, no digest), failing and hanging trivy, --fail-on.
import { expect } from 'chai';
import { chmod, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runKscan, REPO_ROOT } from '../support/cli.js';
import { realTrivy } from '../support/trivy.js';

const DEMO = path.join(REPO_ROOT, 'fixtures', 'demo');

interface JsonImage { name: string; repository: string; digest?: string; workloads: string[]; replicas: number; scanned: boolean; notScanned?: string; bases: string[]; vulnerabilities: Record<string, number>; ignored: number; risk: number }

async function demoPods(): Promise<{ namespace: string; running: boolean; digests: string[] }[]> {
  const text = await readFile(path.join(DEMO, 'objects', 'core_v1_Pod.jsonl'), 'utf8');
  return text.split('\n').filter(Boolean).map((line) => {
    const pod = JSON.parse(line);
    const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    return { namespace: pod.metadata.namespace, running: ['Running', 'Pending', undefined].includes(pod.status?.phase), digests: statuses.map((s: { imageID?: string }) => s.imageID?.split('@')[1]).filter((d): d is string => Boolean(d)) };
  });
}

const trivyReport = (repo: string, tag: string, digest: string, vulns: [string, string, string, string | null][]) => JSON.stringify({
  SchemaVersion: 2, ArtifactName: `${repo}:${tag}`, ArtifactType: 'container_image',
  Metadata: { DiffIDs: [`sha256:${'1'.repeat(64)}`, `sha256:${digest.slice(7, 20).padEnd(64, '2')}`], RepoDigests: [`${repo}@${digest}`] },
  Results: [{ Target: repo, Class: 'os-pkgs', Type: 'debian', Vulnerabilities: vulns.map(([id, pkg, severity, fixed]) => ({ VulnerabilityID: id, PkgName: pkg, InstalledVersion: '1.0', ...(fixed ? { FixedVersion: fixed } : {}), Severity: severity })) }],
});

describe('kscan images (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let demo: { images: JsonImage[]; bases: { name: string; fixableCriticalHigh: number; workloads: number; fixes: { fixed: string }[] }[]; summary: Record<string, number>; errors: unknown[] };

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-images-cli-'));
    const run = await runKscan(['images', '--snapshot', DEMO, '--format', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    demo = JSON.parse(run.stdout);
  });

  it('lists every image the demo pods run, with its digest, workloads and replicas', async () => {
    const pods = await demoPods();
    const running = new Set(pods.flatMap((p) => p.digests));
    const listed = new Set(demo.images.map((i) => i.digest));
    for (const digest of running) expect(listed.has(digest), `${digest} listed`).to.equal(true);
    for (const image of demo.images) {
      expect(image.workloads.length, image.name).to.be.greaterThan(0);
      // Replicas: running pods whose status reports this digest, once per pod (calico-node runs calico/cni in two init containers).
      const count = pods.filter((p) => p.running && p.digests.includes(image.digest!)).length;
      expect(image.replicas, image.name).to.equal(count);
    }
    const text = await runKscan(['images', '--snapshot', DEMO]);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^IMAGE +DIGEST +WORKLOADS +REPLICAS +BASE +VULNS C\/H\/M\/L$/);
    expect(lines.length).to.equal(demo.images.length + 1);
    const redis = demo.images.find((i) => i.name.startsWith('redis:'))!;
    expect(lines.find((l) => l.startsWith(redis.name))).to.match(new RegExp(`${redis.digest!.slice(7, 19)} +${redis.workloads[0]} +${redis.replicas} +debian:12-slim `));
    const unscanned = demo.images.filter((i) => !i.scanned);
    expect(unscanned.map((i) => i.name)).to.deep.equal(['registry.example.com/crm/app:latest']);
    expect(lines.find((l) => l.startsWith('registry.example.com/crm/app'))).to.match(/not scanned$/);
  });

  it('--vulns: top vulnerable images by risk, then the base images to fix first', async () => {
    const run = await runKscan(['images', '--snapshot', DEMO, '--vulns', '--limit', '5']);
    const lines = run.stdout.split('\n');
    const top = demo.images.filter((i) => i.scanned).slice(0, 5);
    top.forEach((image, index) => expect(lines[2 + index]).to.match(new RegExp(`^${image.risk} +${image.name.replace(/[.]/g, '\\.')} +${image.vulnerabilities.critical} +${image.vulnerabilities.high} `)));
    const first = demo.bases.filter((b) => b.fixableCriticalHigh)[0];
    const at = lines.indexOf('Fix these base images first:');
    expect(lines[at + 1]).to.equal(`  ${first.name}: upgrading removes ${first.fixableCriticalHigh} critical/high vulnerabilities from ${first.workloads} workloads` + lines[at + 1].slice(lines[at + 1].indexOf(' (')));
    expect(lines[at + 2]).to.contain(`→ ${first.fixes[0].fixed}`);
  });

  it('--cve: the images carrying a vulnerability, where it came from, and the workloads running them', async () => {
    const run = await runKscan(['images', '--snapshot', DEMO, '--cve', 'cve-2024-5535']);
    const files = await readdir(path.join(DEMO, 'images'));
    const carrying = [];
    for (const file of files) if ((await readFile(path.join(DEMO, 'images', file), 'utf8')).includes('"CVE-2024-5535"')) carrying.push(file);
    const imageLines = run.stdout.split('\n').filter((l) => /^  \S/.test(l));
    // One package per distro (libssl3 in Debian, libcrypto3 in Alpine): one block each, every carrier listed once.
    expect(imageLines.length).to.equal(carrying.length);
    expect(imageLines.filter((l) => l.includes('(inherited from debian:12-slim)')).length).to.be.greaterThan(2);
    expect(run.stdout).to.match(/^ {4}StatefulSet\/shop\/redis — 2 replica\(s\)/m);
    expect((await runKscan(['images', '--snapshot', DEMO, '--cve', 'CVE-1999-0001'])).stdout).to.equal('CVE-1999-0001: not found in any scanned image.\n');
  });

  it('--registry-list: images in the registry that no workload uses (zombies)', async () => {
    const redis = demo.images.find((i) => i.name.startsWith('redis:'))!;
    const list = path.join(dir, 'registry.txt');
    await writeFile(list, `# our registry\n${redis.name}\nredis@${redis.digest}\nredis:6.2 # old\nghcr.io/example/old-api@sha256:${'e'.repeat(64)}\n`);
    const json = JSON.parse((await runKscan(['images', '--snapshot', DEMO, '--registry-list', list, '--format', 'json'])).stdout);
    expect(json.zombies).to.deep.equal(['redis:6.2', `ghcr.io/example/old-api@sha256:${'e'.repeat(64)}`]);
    const text = await runKscan(['images', '--snapshot', DEMO, '--registry-list', list]);
    expect(text.stdout).to.contain(`Images in ${list} used by no workload (2):\n  redis:6.2\n`);
  });

  it('--ignore-file: accepted vulnerabilities drop out; expired or reasonless entries are reported and not applied', async () => {
    const ignore = path.join(dir, 'ignore.yaml');
    await writeFile(ignore, 'ignore:\n  - {id: CVE-2023-45853, reason: not reachable, expires: 2099-01-01}\n  - {id: CVE-2024-5535, reason: accepted last year, expires: 2020-01-01}\n  - {id: CVE-2023-4911, expires: 2099-01-01}\n  - {id: CVE-2023-4863, reason: typo in the date, expires: 2099-02-30}\n');
    const run = await runKscan(['images', '--snapshot', DEMO, '--ignore-file', ignore, '--format', 'json']);
    expect(run.code).to.equal(0);
    const json = JSON.parse(run.stdout);
    const zlib = (await runKscan(['images', '--snapshot', DEMO, '--cve', 'CVE-2023-45853'])).stdout.split('\n').filter((l) => /^  \S/.test(l)).length;
    expect(zlib).to.be.greaterThan(0);
    expect(json.summary.ignored).to.equal(zlib);
    expect(json.summary.vulnerabilities).to.equal(demo.summary.vulnerabilities - zlib);
    expect(json.topVulnerabilities.some((v: { id: string }) => v.id === 'CVE-2023-45853')).to.equal(false);
    expect(json.topVulnerabilities.some((v: { id: string }) => v.id === 'CVE-2024-5535')).to.equal(true);
    expect(json.errors.map((e: { source: string; message: string }) => `${e.source}: ${e.message}`)).to.deep.equal([
      `${ignore}: ignore entry 2 (CVE-2024-5535): expired on 2020-01-01; no longer applied`,
      `${ignore}: ignore entry 3 (CVE-2023-4911): needs a reason; not applied`,
      `${ignore}: ignore entry 4 (CVE-2023-4863): needs an expiry date (expires: YYYY-MM-DD); not applied`,
    ]);
    expect(run.stderr).to.contain('expired on 2020-01-01');
  });

  it('bad input: truncated, foreign and SPDX files and images without digest are reported; the rest is used', async () => {
    const results = path.join(dir, 'bad-results');
    const manifests = path.join(dir, 'bad-manifests');
    await mkdir(results, { recursive: true });
    await mkdir(manifests, { recursive: true });
    const good = trivyReport('ghcr.io/x/api', '2.0', `sha256:${'a'.repeat(64)}`, [['CVE-2024-1', 'openssl', 'CRITICAL', '3.0.14']]);
    await writeFile(path.join(results, 'api.json'), good);
    await writeFile(path.join(results, 'truncated.json'), good.slice(0, 120));
    await writeFile(path.join(results, 'grype.json'), JSON.stringify({ matches: [], source: { type: 'image' } }));
    await writeFile(path.join(results, 'sbom.spdx.json'), JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', packages: [] }));
    await writeFile(path.join(results, 'old.json'), JSON.stringify({ SchemaVersion: 1, Results: [] }));
    await writeFile(path.join(manifests, 'apps.yaml'), [
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: prod}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{name: api, image: "ghcr.io/x/api:2.0"}]\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: tool, namespace: prod}\nspec:\n  containers: [{name: tool, image: "ghcr.io/x/tool"}]\n',
    ].join('---\n'));
    const run = await runKscan(['images', '--manifests', manifests, '--image-results', results, '--format', 'json']);
    expect(run.code).to.equal(0);
    const json = JSON.parse(run.stdout);
    const errors = Object.fromEntries(json.errors.map((e: { source: string; message: string }) => [path.basename(e.source), e.message]));
    expect(errors['truncated.json']).to.match(/^truncated JSON \(/);
    expect(errors['grype.json']).to.equal('not a trivy JSON report (SchemaVersion 2) or CycloneDX SBOM');
    expect(errors['sbom.spdx.json']).to.equal('SPDX SBOMs are not supported (found SPDX-2.3); give a CycloneDX SBOM or trivy JSON');
    expect(errors['old.json']).to.equal('trivy JSON SchemaVersion 1 is not supported (expected 2)');
    expect(Object.keys(errors)).to.have.length(4);
    // The image named by tag only matches its report by tag; the untagged one has no digest and no report.
    const api = json.images.find((i: JsonImage) => i.name === 'ghcr.io/x/api:2.0');
    expect(api).to.include({ scanned: true, replicas: 2 });
    expect(api.digest).to.equal(undefined);
    const tool = json.images.find((i: JsonImage) => i.name === 'ghcr.io/x/tool:latest');
    expect(tool.scanned).to.equal(false);
    expect(tool.notScanned).to.match(/^no scan result for this image/);
    for (const file of ['truncated.json', 'grype.json', 'sbom.spdx.json', 'old.json']) expect(run.stderr).to.contain(`${path.join(results, file)}: `);
    // Nothing usable at all: exit 2.
    const empty = await runKscan(['images', '--manifests', path.join(dir, 'nothing-here'), '--format', 'json']);
    expect(empty.code).to.equal(2);
  });

  it('--latest-only keeps the newest tag of each repository', async () => {
    const manifests = path.join(dir, 'tags');
    await mkdir(manifests, { recursive: true });
    const pod = (name: string, image: string) => `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}, namespace: a}\nspec:\n  containers: [{name: c, image: "${image}"}]\n`;
    await writeFile(path.join(manifests, 'pods.yaml'), [pod('a', 'web:1.9.2'), pod('b', 'web:1.10.0'), pod('c', 'web:1.2'), pod('d', 'db:15.6'), pod('e', `cache@sha256:${'c'.repeat(64)}`)].join('---\n'));
    const all = JSON.parse((await runKscan(['images', '--manifests', manifests, '--format', 'json'])).stdout);
    expect(all.images.map((i: JsonImage) => i.name).sort()).to.deep.equal(['cache', 'db:15.6', 'web:1.10.0', 'web:1.2', 'web:1.9.2']);
    const latest = JSON.parse((await runKscan(['images', '--manifests', manifests, '--format', 'json', '--latest-only'])).stdout);
    expect(latest.images.map((i: JsonImage) => i.name).sort()).to.deep.equal(['cache', 'db:15.6', 'web:1.10.0']);
  });

  it('--scan: a private image trivy cannot pull and a hanging trivy are per-image errors; the others are used', async function () {
    const found = await realTrivy();
    if (!found.path) return this.skip();
    const manifests = path.join(dir, 'scan');
    const results = path.join(dir, 'scan-results');
    await mkdir(manifests, { recursive: true });
    await mkdir(results, { recursive: true });
    await writeFile(path.join(results, 'api.json'), trivyReport('ghcr.io/x/api', '2.0', `sha256:${'a'.repeat(64)}`, [['CVE-2024-1', 'openssl', 'CRITICAL', '3.0.14']]));
    await writeFile(path.join(manifests, 'apps.yaml'), [
      'apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: prod}\nspec:\n  containers: [{name: api, image: "ghcr.io/x/api:2.0"}]\n',
      'apiVersion: v1\nkind: Pod\nmetadata: {name: crm, namespace: prod}\nspec:\n  containers: [{name: crm, image: "registry.example.invalid/private/crm:4.1"}]\n',
    ].join('---\n'));
    const args = ['images', '--manifests', manifests, '--image-results', results, '--scan', '--offline-scan', '--skip-db-update', '--trivy-scanners', 'license', '--cache-dir', path.join(dir, 'trivy-cache')];
    const real = await runKscan([...args, '--trivy', found.path!, '--format', 'json']);
    expect(real.code).to.equal(0);
    const crm = JSON.parse(real.stdout).images.find((i: JsonImage) => i.name.startsWith('registry.example.invalid'));
    expect(crm.notScanned).to.equal('trivy exited with code 1 and printed no error');
    const hang = path.join(dir, 'hanging-trivy');
    await writeFile(hang, '#!/bin/sh\nexec sleep 60\n');
    await chmod(hang, 0o755);
    const hung = await runKscan([...args, '--trivy', hang, '--trivy-timeout', '1', '--format', 'json']);
    expect(hung.code).to.equal(0);
    const images = JSON.parse(hung.stdout).images as JsonImage[];
    expect(images.map((i) => [i.name, i.scanned, i.notScanned, i.vulnerabilities.critical])).to.deep.equal([
      ['ghcr.io/x/api:2.0', true, undefined, 1],
      ['registry.example.invalid/private/crm:4.1', false, 'trivy timed out after 1 s', 0],
    ]);
    const missing = await runKscan(['images', '--manifests', manifests, '--scan', '--trivy', path.join(dir, 'no-trivy'), '--format', 'json']);
    expect(JSON.parse(missing.stdout).images.map((i: JsonImage) => i.notScanned)).to.deep.equal([`trivy not found at ${path.join(dir, 'no-trivy')}`, `trivy not found at ${path.join(dir, 'no-trivy')}`]);
  });

  it('--fail-on gates on image findings; accepting the vulnerability lets CI pass', async () => {
    const results = path.join(dir, 'gate');
    await mkdir(results, { recursive: true });
    await writeFile(path.join(results, 'api.json'), trivyReport('ghcr.io/x/api', '2.0', `sha256:${'a'.repeat(64)}`, [['CVE-2024-1', 'openssl', 'CRITICAL', '3.0.14'], ['CVE-2024-2', 'zlib', 'HIGH', null]]));
    const manifests = path.join(dir, 'gate-manifests');
    await mkdir(manifests, { recursive: true });
    await writeFile(path.join(manifests, 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: prod}\nspec:\n  containers: [{name: api, image: "ghcr.io/x/api:2.0"}]\n');
    const base = ['images', '--manifests', manifests, '--image-results', results];
    expect((await runKscan([...base, '--fail-on', 'critical'])).code).to.equal(1);
    expect((await runKscan([...base, '--fail-on', 'none'])).code).to.equal(0);
    const ignore = path.join(dir, 'accept.yaml');
    await writeFile(ignore, 'ignore:\n  - {id: CVE-2024-1, reason: patched in the sidecar, expires: 2099-01-01, images: ["ghcr.io/x/*"]}\n');
    expect((await runKscan([...base, '--ignore-file', ignore, '--fail-on', 'critical'])).code).to.equal(0);
    // An unfixed high is not a fixable finding class: high passes too, medium does not (no info class either).
    expect((await runKscan([...base, '--ignore-file', ignore, '--fail-on', 'high'])).code).to.equal(0);
    // Results alone gate without any cluster: a kubeconfig that points nowhere is not even read.
    const alone = await runKscan(['images', '--image-results', results, '--fail-on', 'critical', '--format', 'json'], { env: { KUBECONFIG: path.join(dir, 'no-such-kubeconfig') } });
    expect(alone.code, alone.stderr).to.equal(1);
    expect(JSON.parse(alone.stdout).images.map((i: { name: string; workloads: string[] }) => [i.name, i.workloads.length])).to.deep.equal([['ghcr.io/x/api:2.0', 0]]);
    // The demo through `kscan cluster`: image findings are in the scan, so --fail-on sees them.
    const out = path.join(dir, 'cluster.json');
    await runKscan(['cluster', '--snapshot', DEMO, '--format', 'json', '--output', out]);
    const cluster = JSON.parse(await readFile(out, 'utf8'));
    const ids = new Set(cluster.findings.map((f: { checkId: string }) => f.checkId));
    expect([...ids].filter((id) => String(id).startsWith('KS-IMG-')).sort()).to.deep.equal(['KS-IMG-001', 'KS-IMG-002', 'KS-IMG-003', 'KS-IMG-004']);
  });

  it('the HTML report draws base-image lineage as a tree with each base\'s blast radius', async () => {
    const out = path.join(dir, 'report.html');
    await runKscan(['cluster', '--snapshot', DEMO, '--format', 'html', '--output', out]);
    const html = await readFile(out, 'utf8');
    const lineage = html.slice(html.indexOf('<h3>Base-image lineage</h3>'));
    const cells = [...lineage.slice(0, lineage.indexOf('</table>')).matchAll(/<tr><td>([^<]*)<\/td><td>[^<]*<\/td><td>(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td>/g)].map((m) => [m[1], Number(m[3]), Number(m[4])]);
    const debian = cells.findIndex(([name]) => name === 'debian:12-slim');
    expect(debian).to.be.greaterThan(-1);
    // python:3.12-slim sits under debian:12-slim, indented with no-break spaces HTML keeps.
    const python = cells.find(([name]) => String(name).endsWith('python:3.12-slim'))!;
    expect(python[0]).to.equal('\u00a0\u00a0\u00a0└─\u00a0python:3.12-slim');
    expect(cells.indexOf(python)).to.be.greaterThan(debian);
    const base = demo.bases.find((b) => b.name === 'debian:12-slim')! as unknown as { images: number; workloads: number };
    expect(cells[debian].slice(1)).to.deep.equal([base.images, base.workloads]);
  });
});
