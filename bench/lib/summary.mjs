// The one table of `npm run bench`: a row per benchmark and size (wall time, throughput, peak
// RSS, and the figure its target is about), read back from the JSON each benchmark wrote to
// bench/results/. A result that is missing (not run, or failed) gives no row.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fmtMs, table } from './format.mjs';

async function readJson(file) {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const perSecond = (count, ms) => Math.round(count / (ms / 1000));

/**
 * Rows for the sizes run. `sizes` names the files to read: manifests and live collection by object
 * count, audit by event count; `succeeded(name)` says whether that run (as bench/run.mjs names it:
 * "manifests 10000", "audit 100000", "images", ...) completed this time.
 */
export async function summaryRows(results, sizes, succeeded = () => true) {
  const rows = [];
  const row = (benchmark, size, wallMs, throughput, unit, peakRssMiB, note = '') => rows.push({ benchmark, size, wallMs: Math.round(wallMs), throughput, unit, peakRssMiB: peakRssMiB === undefined ? undefined : Math.round(peakRssMiB), note });

  for (const objects of sizes.manifests) {
    if (!succeeded(`manifests ${objects}`)) continue;
    const m = await readJson(path.join(results, objects === 10_000 ? 'manifests.json' : `manifests-${objects}.json`));
    if (m) row('kscan manifests', `${m.corpus.objects} objects`, m.kscan.wallMs, perSecond(m.corpus.objects, m.kscan.wallMs), 'objects/s', m.kscan.maxRssKiB / 1024, `${m.kscan.ratioToJsYamlProcess.toFixed(2)}x wall, ${m.kscan.ratioToJsYamlCpu.toFixed(2)}x CPU of js-yaml (target <= ${m.targets.ratio}x)`);
  }
  for (const objects of sizes.live) {
    if (!succeeded(`live-collection ${objects}`)) continue;
    const l = await readJson(path.join(results, `live-collection-${objects}.json`));
    if (l) row('live collection', `${l.objects} objects`, l.medianMs, l.objectsPerSecond, 'objects/s', l.maxRssKiB / 1024, `${l.requestsPerRun} requests; RSS includes the fixture server`);
  }
  for (const events of sizes.audit) {
    if (!succeeded(`audit ${events}`)) continue;
    const a = await readJson(path.join(results, `audit-${events}.json`));
    if (a) row('kscan audit', `${a.log.events} events`, a.results.kscan.wallMs, Math.round(a.kscan.eventsPerCpuSecond), 'events/CPU s', a.kscan.maxRssMiB, `${a.kscan.ratioToParse.toFixed(2)}x wall, ${a.kscan.ratioToParseCpu.toFixed(2)}x CPU of JSON.parse (target <= ${a.targets.ratioToParse}x)`);
  }
  const images = succeeded('images') ? await readJson(path.join(results, 'images.json')) : undefined;
  for (const r of images?.results ?? []) row('kscan images', `${r.images} images`, r.cli.wallMs, perSecond(r.vulnerabilities, r.cli.wallMs), 'vulnerabilities/s', r.cli.peakRssMiB);
  const rbac = succeeded('rbac') ? await readJson(path.join(results, 'rbac.json')) : undefined;
  if (rbac) {
    const wall = median(rbac.analysisWallMs);
    row('RBAC analysis', `${rbac.cluster.rbacObjects} roles/bindings`, wall, perSecond(rbac.cluster.rbacObjects, wall), 'objects/s', rbac.peakRssMiB, `who-can p99 ${rbac.whoCan.p99Ms} ms`);
  }
  const compliance = succeeded('compliance') ? await readJson(path.join(results, 'compliance.json')) : undefined;
  if (compliance) row('checks + compliance', `${compliance.objects} objects`, compliance.medianWallMs, perSecond(compliance.objects, compliance.medianWallMs), 'objects/s', undefined, `${compliance.checks} checks, in process`);
  const reports = succeeded('reports') ? await readJson(path.join(results, 'reports.json')) : undefined;
  if (reports) row('every report format', `${reports.findings} findings`, reports.endToEnd.wallMs, perSecond(reports.findings, reports.endToEnd.wallMs), 'findings/s', reports.endToEnd.peakRssMb);
  const watch = succeeded('watch') ? await readJson(path.join(results, 'watch.json')) : undefined;
  if (watch) row('watch: change to webhook', `${watch.objects} objects`, watch.latencyMs.p99, watch.ratePerSecond, 'changes/s', Math.max(...watch.rssCurve.map((p) => p.rssMiB)), `p99 latency as wall; ${watch.lost} lost`);
  return rows;
}

export function renderSummary(rows) {
  return table([
    ['benchmark', 'size', 'wall', 'throughput', 'peak RSS', 'notes'],
    ...rows.map((r) => [r.benchmark, r.size, fmtMs(r.wallMs), `${r.throughput.toLocaleString('en-US')} ${r.unit}`, r.peakRssMiB === undefined ? '-' : `${r.peakRssMiB} MiB`, r.note || '-']),
  ]);
}
