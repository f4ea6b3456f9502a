// The `kscan images` views as plain text tables: the list, top vulnerable images, one CVE's reach,
// and zombie images (in a registry list, used by no workload). Untrusted text is terminal-escaped.
import { readFile } from 'node:fs/promises';
import { terminalSafe } from '../report/sanitize.js';
import { errorMessage, InputFailure } from '../util/errors.js';
import type { FleetImage } from './fleet.js';
import { workloadLabel } from './fleet.js';
import type { ImageAnalysis } from './analyze.js';
import { severityCounts, vulnerabilitySpread } from './analyze.js';
import { parseImageReference, repositoryKey, shortDigest } from './reference.js';

export function table(columns: string[], rows: (string | number)[][]): string[] {
  const cells = [columns, ...rows.map((r) => r.map((c) => terminalSafe(String(c))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}

export function listView(analysis: ImageAnalysis): string[] {
  return table(
    ['IMAGE', 'DIGEST', 'WORKLOADS', 'REPLICAS', 'BASE', 'VULNS C/H/M/L'],
    analysis.images
      .slice()
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((i) => {
        const c = severityCounts(i.vulnerabilities);
        return [i.name, shortDigest(i.digest) || '-', i.workloads.map((w) => workloadLabel(w.ref)).join(', ') || '(none)', i.replicas, i.chain.at(-1)?.name ?? '-', i.report ? `${c.critical}/${c.high}/${c.medium}/${c.low}` : 'not scanned'];
      }),
  );
}

export function vulnsView(analysis: ImageAnalysis, limit: number): string[] {
  const scanned = analysis.images.filter((i) => i.report).slice(0, limit);
  return table(
    ['RISK', 'IMAGE', 'CRITICAL', 'HIGH', 'FIXABLE', 'INHERITED', 'ADDED', 'WORKLOADS', 'REPLICAS'],
    scanned.map((i) => {
      const c = severityCounts(i.vulnerabilities);
      return [i.risk, i.name, c.critical, c.high, i.vulnerabilities.filter((v) => v.fixed).length, i.vulnerabilities.filter((v) => v.origin.kind === 'base').length, i.vulnerabilities.filter((v) => v.origin.kind === 'image').length, i.workloads.length, i.replicas];
    }),
  );
}

/** CVE → images carrying it (with where it came from) → workloads running them. */
export function cveView(analysis: ImageAnalysis, id: string): string[] {
  const wanted = id.toUpperCase();
  const spread = vulnerabilitySpread(analysis, (v) => v.toUpperCase() === wanted);
  if (!spread.length) return [`${terminalSafe(id)}: not found in any scanned image.`];
  const out: string[] = [];
  for (const s of spread) {
    out.push(`${s.id} ${s.severity}${s.cvss !== undefined ? ` (CVSS ${s.cvss})` : ''} in ${terminalSafe(s.pkg)} ${terminalSafe(s.installed)}${s.fixed ? `, fixed in ${terminalSafe(s.fixed)}` : ', no fix yet'}: ${s.images.length} image(s), ${s.workloads.length} workload(s), risk ${s.risk}`);
    for (const image of s.images) {
      const v = image.vulnerabilities.find((x) => x.id === s.id && x.pkg === s.pkg)!;
      const from = v.origin.kind === 'base' ? `inherited from ${v.origin.base.name}` : v.origin.kind === 'image' ? 'added by this image' : 'layer unknown';
      out.push(`  ${terminalSafe(image.name)} (${from})`);
      for (const w of image.workloads) out.push(`    ${terminalSafe(workloadLabel(w.ref))} — ${w.replicas} replica(s)${w.exposure.exposedBy.length ? `, exposed by ${terminalSafe(w.exposure.exposedBy.join(', '))}` : ''}${w.exposure.hostAccess.length ? `, ${w.exposure.hostAccess.join(', ')}` : ''}`);
    }
  }
  return out;
}

/** Reads a registry/image list: one reference per line, # comments. */
export async function readImageList(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  } catch (error) {
    throw new InputFailure(`${file}: cannot read image list (${errorMessage(error)})`);
  }
}

/** Images in the list that no workload uses: matched by digest when the list pins one, else by repository and tag. */
export function zombieImages(list: string[], fleet: FleetImage[]): string[] {
  const digests = new Set(fleet.map((i) => i.digest).filter(Boolean));
  const tags = new Set(fleet.map((i) => `${i.repository}:${i.reference.tag ?? ''}`));
  return list.filter((entry) => {
    const ref = parseImageReference(entry);
    return ref.digest ? !digests.has(ref.digest) : !tags.has(`${repositoryKey(ref)}:${ref.tag ?? 'latest'}`);
  });
}
