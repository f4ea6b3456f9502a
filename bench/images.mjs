#!/usr/bin/env node
// Image analysis at fleet scale: ingest N trivy JSON reports (about 100 vulnerabilities each), build
// the fleet from a matching inventory, compute lineage, attribution and risk, and rank base images.
// Measured two ways, each in a fresh Node process: the library path (ingest → fleet → analyze →
// imagesResult) and the CLI (`kscan images --manifests … --image-results … --format json`).
//
//   node bench/images.mjs [--images 2000,200] [--vulns 100] [--runs 3] [--seed 7]
//
// The corpus is deterministic (seeded PRNG) and written to bench/data/images-<N>/ once. Realistic
// shape: 12 base images (1–3 layers each, some stacked: python on debian) carry half the fleet; the
// other half sit on their own OS layers. Layer DiffIDs are shared exactly as builds share them, and
// every vulnerability names the layer that installed its package. Targets: < 10 s, < 1 GiB at 2,000.
import { mulberry32 as prng } from '../fixtures/lib/prng.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

// ----- child mode: the library path, timed by stage, in its own process --------------------------
if (process.argv[2] === '--library-child') {
  const dir = process.argv[3];
  const dist = (p) => pathToFileURL(path.join(ROOT, 'dist', 'src', p)).href;
  const t0 = performance.now();
  const [{ ingestImageResults }, { collectFiles }, { Inventory }, { buildFleet }, { analyzeImages }, { imagesResult }] = await Promise.all(
    ['images/ingest.js', 'collect/files.js', 'inventory/inventory.js', 'images/fleet.js', 'images/analyze.js', 'images/section.js'].map((p) => import(dist(p))),
  );
  const t1 = performance.now();
  const ingested = await ingestImageResults([path.join(dir, 'results')]);
  const t2 = performance.now();
  const collection = await collectFiles([path.join(dir, 'manifests')]);
  const fleet = buildFleet(new Inventory(collection.objects));
  const t3 = performance.now();
  const analysis = analyzeImages(fleet, ingested.reports);
  const t4 = performance.now();
  const result = imagesResult(analysis);
  const t5 = performance.now();
  process.stdout.write(JSON.stringify({
    importMs: t1 - t0, ingestMs: t2 - t1, fleetMs: t3 - t2, analyzeMs: t4 - t3, rankMs: t5 - t4, totalMs: t5 - t1,
    reports: ingested.reports.length, errors: ingested.errors.length, vulnerabilities: result.summary.vulnerabilities,
    images: result.summary.images, bases: result.summary.bases, imagesOnBases: result.summary.imagesOnBases, topBase: result.bases[0]?.name,
    topBaseRemoves: result.bases.find((b) => b.fixableCriticalHigh)?.fixableCriticalHigh,
  }));
  process.exit(0);
}

// ----- corpus ------------------------------------------------------------------------------------
const sha = (s) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const SEVERITIES = ['CRITICAL', 'HIGH', 'HIGH', 'MEDIUM', 'MEDIUM', 'MEDIUM', 'LOW', 'LOW', 'LOW', 'UNKNOWN'];
const BASE_NAMES = ['debian:12-slim', 'python:3.12-slim', 'node:20-bookworm-slim', 'alpine:3.19', 'ubuntu:22.04', 'gcr.io/distroless/static-debian12', 'gcr.io/distroless/base-debian12', 'eclipse-temurin:21-jre', 'golang:1.22-bookworm', 'nginx:1.25', 'registry.access.redhat.com/ubi8-minimal', 'amazonlinux:2023'];

function generate(count, vulnsPerImage, seed, dir) {
  const rand = prng(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const vuln = (n, pkgPrefix, layer) => {
    const severity = pick(SEVERITIES);
    const fixed = rand() < 0.6;
    return {
      VulnerabilityID: `CVE-20${20 + (n % 5)}-${10000 + n}`, PkgName: `${pkgPrefix}${n % 40}`, InstalledVersion: `1.${n % 7}.${n % 3}`,
      ...(fixed ? { FixedVersion: `1.${n % 7}.${(n % 3) + 1}` } : {}), Severity: severity, SeveritySource: 'nvd',
      Title: `synthetic vulnerability ${n} in ${pkgPrefix}${n % 40}`, Description: 'x'.repeat(120 + (n % 200)),
      CVSS: rand() < 0.8 ? { nvd: { V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', V3Score: Math.round((2 + rand() * 8) * 10) / 10 } } : undefined,
      References: [`https://nvd.nist.gov/vuln/detail/CVE-20${20 + (n % 5)}-${10000 + n}`], PublishedDate: '2024-01-01T00:00:00Z', Layer: { DiffID: layer },
    };
  };
  // Bases: a list of layers, each with the vulnerabilities its packages bring. Some stack on others.
  const bases = BASE_NAMES.map((name, b) => {
    const parent = b === 1 || b === 2 || b === 6 ? 0 : undefined; // python, node, distroless/base on debian
    const own = 1 + (b % 3);
    const layers = Array.from({ length: own }, (_, l) => sha(`base ${name} layer ${l}`));
    const perLayer = Math.round((vulnsPerImage * 0.6) / own);
    const vulns = layers.map((layer, l) => Array.from({ length: perLayer }, (_, k) => ({ n: b * 1000 + l * 100 + k, layer })));
    return { name, parent, layers, vulns };
  });
  const chainOf = (b) => (bases[b].parent !== undefined ? [...chainOf(bases[b].parent), bases[b]] : [bases[b]]);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'results'), { recursive: true });
  mkdirSync(path.join(dir, 'manifests'), { recursive: true });
  const docs = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const repo = `registry.example.com/team-${i % 40}/svc-${i}`;
    const digest = sha(`manifest ${i}`);
    const onBase = i % 2 === 0;
    const chain = onBase ? chainOf(Math.floor(rand() * bases.length)) : [];
    const diffIds = chain.flatMap((b) => b.layers);
    const vulns = chain.flatMap((b) => b.vulns.flat().map(({ n, layer }) => vuln(n, 'libbase', layer)));
    // The image's own layers: an OS layer when it has no shared base, then 2–4 application layers.
    const ownLayers = Array.from({ length: (onBase ? 0 : 1) + 2 + Math.floor(rand() * 3) }, (_, l) => sha(`image ${i} layer ${l}`));
    diffIds.push(...ownLayers);
    while (vulns.length < vulnsPerImage) vulns.push(vuln(50000 + Math.floor(rand() * 20000), 'app-', pick(ownLayers)));
    total += vulns.length;
    const report = {
      SchemaVersion: 2, CreatedAt: '2026-11-20T09:12:00Z', ArtifactName: `${repo}:1.${i % 9}.0`, ArtifactType: 'container_image',
      Metadata: {
        OS: { Family: 'debian', Name: '12.5' }, ImageID: sha(`config ${i}`), DiffIDs: diffIds, RepoTags: [`${repo}:1.${i % 9}.0`], RepoDigests: [`${repo}@${digest}`],
        ImageConfig: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds }, config: { Labels: {} } },
      },
      Results: [{ Target: `${repo}:1.${i % 9}.0 (debian 12.5)`, Class: 'os-pkgs', Type: 'debian', Vulnerabilities: vulns }],
    };
    writeFileSync(path.join(dir, 'results', `${String(i).padStart(5, '0')}.json`), JSON.stringify(report, null, 2));
    const replicas = 1 + (i % 5);
    const exposed = i % 7 === 0;
    docs.push(`apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-${i}\n  namespace: team-${i % 40}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels: {app: svc-${i}}\n  template:\n    metadata:\n      labels: {app: svc-${i}}\n    spec:\n${i % 11 === 0 ? '      hostNetwork: true\n' : ''}      containers:\n      - name: app\n        image: ${repo}:1.${i % 9}.0@${digest}\n`);
    if (exposed) docs.push(`apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${i}\n  namespace: team-${i % 40}\nspec:\n  type: LoadBalancer\n  selector: {app: svc-${i}}\n  ports: [{port: 80}]\n`);
  }
  for (let f = 0; f < 20; f++) writeFileSync(path.join(dir, 'manifests', `workloads-${f}.yaml`), docs.filter((_, d) => d % 20 === f).join('---\n'));
  writeFileSync(path.join(dir, 'corpus.json'), JSON.stringify({ images: count, vulnerabilities: total, vulnsPerImage, bases: bases.length, seed }));
  return { images: count, vulnerabilities: total };
}

// ----- measuring -----------------------------------------------------------------------------------
function measured(args) {
  const rssFile = path.join(ROOT, 'bench', 'results', `.images-rss-${process.pid}.json`);
  const started = performance.now();
  const run = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'lib', 'rss-wrapper.mjs'), rssFile, ...args], { cwd: ROOT, maxBuffer: 1 << 30, encoding: 'utf8' });
  const wallMs = performance.now() - started;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited with ${run.status}: ${run.stderr.split('\n')[0]}`);
  const usage = JSON.parse(readFileSync(rssFile, 'utf8'));
  rmSync(rssFile, { force: true });
  return { wallMs, peakRssMiB: usage.maxRSS / 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, stdout: run.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sizes = String(arg('images', '2000,200')).split(',').map(Number);
const vulnsPerImage = Number(arg('vulns', 100));
const runs = Number(arg('runs', 3));
const seed = Number(arg('seed', 7));
if (!existsSync(path.join(ROOT, 'dist', 'src', 'images', 'analyze.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });

const results = [];
for (const count of sizes) {
  const dir = path.join(ROOT, 'bench', 'data', `images-${count}`);
  const meta = path.join(dir, 'corpus.json');
  const wanted = { images: count, bases: BASE_NAMES.length, seed };
  let corpus = existsSync(meta) ? JSON.parse(readFileSync(meta, 'utf8')) : undefined;
  if (!corpus || corpus.images !== wanted.images || corpus.seed !== seed || corpus.vulnsPerImage !== vulnsPerImage) {
    const t = performance.now();
    corpus = generate(count, vulnsPerImage, seed, dir);
    console.error(`generated ${count} reports, ${corpus.vulnerabilities} vulnerabilities in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const library = [];
  const cli = [];
  for (let r = 0; r < runs; r++) {
    const lib = measured([path.join(ROOT, 'bench', 'images.mjs'), '--library-child', dir]);
    library.push({ ...lib, stages: JSON.parse(lib.stdout) });
    const c = measured([path.join(ROOT, 'bin', 'run.js'), 'images', '--manifests', path.join(dir, 'manifests'), '--image-results', path.join(dir, 'results'), '--format', 'json']);
    const out = JSON.parse(c.stdout);
    // A wrong answer is a failure, not a figure: every report ingested, every vulnerability counted.
    if (out.summary.vulnerabilities !== corpus.vulnerabilities || out.summary.scanned !== count || out.errors.length) throw new Error(`kscan images: ${out.summary.vulnerabilities}/${corpus.vulnerabilities} vulnerabilities, ${out.summary.scanned}/${count} scanned, ${out.errors.length} errors`);
    cli.push({ wallMs: c.wallMs, peakRssMiB: c.peakRssMiB, cpuMs: c.cpuMs, bases: out.summary.bases, imagesOnBases: out.summary.imagesOnBases });
  }
  const stages = library.map((l) => l.stages);
  results.push({
    images: count, vulnerabilities: corpus.vulnerabilities, runs,
    library: { wallMs: median(library.map((l) => l.wallMs)), peakRssMiB: Math.max(...library.map((l) => l.peakRssMiB)), ingestMs: median(stages.map((s) => s.ingestMs)), fleetMs: median(stages.map((s) => s.fleetMs)), analyzeMs: median(stages.map((s) => s.analyzeMs)), rankMs: median(stages.map((s) => s.rankMs)), bases: stages[0].bases, imagesOnBases: stages[0].imagesOnBases, topBase: stages[0].topBase },
    cli: { wallMs: median(cli.map((c) => c.wallMs)), peakRssMiB: Math.max(...cli.map((c) => c.peakRssMiB)), cpuMs: median(cli.map((c) => c.cpuMs)) },
  });
}

const s = (ms) => (ms / 1000).toFixed(2);
console.log('| images | vulns | path | wall s (median) | peak RSS MiB | ingest s | fleet s | lineage+risk s | rank s |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(`| ${r.images} | ${r.vulnerabilities} | library | ${s(r.library.wallMs)} | ${r.library.peakRssMiB.toFixed(0)} | ${s(r.library.ingestMs)} | ${s(r.library.fleetMs)} | ${s(r.library.analyzeMs)} | ${s(r.library.rankMs)} |`);
  console.log(`| ${r.images} | ${r.vulnerabilities} | kscan images | ${s(r.cli.wallMs)} | ${r.cli.peakRssMiB.toFixed(0)} | | | | |`);
}
for (const r of results) console.log(`${r.images} images: ${r.library.bases} bases found, ${r.library.imagesOnBases} images on them; top base ${r.library.topBase}`);
writeFileSync(path.join(ROOT, 'bench', 'results', 'images.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, targets: { wallMs: 10_000, peakRssMiB: 1024 }, results }, null, 2));
