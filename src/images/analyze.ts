// Image analysis: ties scan results to the fleet, computes lineage, attributes vulnerabilities to
// the base that introduced them, applies the ignore list and scores risk (formula in README,
// "Image risk"). Everything here is plain data in, plain data out.
import type { Severity } from '../model/types.js';
import { SEVERITIES, SEVERITY_RANK } from '../model/types.js';
import type { FleetImage, WorkloadUse } from './fleet.js';
import { workloadLabel } from './fleet.js';
import type { ImageReport, ImageVulnerability } from './report.js';
import { attribute, computeLineage, type Attribution, type BaseImage, type CatalogueEntry, type Lineage } from './lineage.js';
import { isIgnored, type IgnoreRule } from './ignore.js';
import { displayName, parseImageReference, repositoryKey } from './reference.js';

export interface AnalyzedVulnerability extends ImageVulnerability {
  origin: Attribution;
  /** Severity weight × fix factor (see vulnerabilityWeight). */
  weight: number;
}

export interface AnalyzedImage {
  key: string;
  name: string;
  repository: string;
  digest?: string;
  workloads: WorkloadUse[];
  replicas: number;
  report?: ImageReport;
  /** Why there is no scan result for a running image. */
  notScanned?: string;
  chain: BaseImage[];
  vulnerabilities: AnalyzedVulnerability[];
  ignored: number;
  /** Σ workloads max(1, replicas) × exposure: how much runs this image, and how exposed. */
  reach: number;
  risk: number;
}

export interface ImageAnalysis {
  images: AnalyzedImage[];
  lineage: Lineage;
}

export interface AnalyzeOptions {
  catalogue?: CatalogueEntry[];
  ignore?: IgnoreRule[];
  /** Fleet image key → why trivy could not scan it. */
  failures?: Map<string, string>;
}

/** CVSS v3 base score where the scanner gave one, else a score typical of the severity. */
const SEVERITY_SCORE: Record<Severity, number> = { critical: 9.5, high: 8, medium: 5.5, low: 2.5, info: 0.5 };
/** A vulnerability with no fix yet still counts, at half weight: nothing to upgrade to. */
const NO_FIX_FACTOR = 0.5;

export function vulnerabilityWeight(v: ImageVulnerability): number {
  return (v.cvss ?? SEVERITY_SCORE[v.severity]) * (v.fixed ? 1 : NO_FIX_FACTOR);
}

/** 1, +1 when reachable from outside the cluster, +1 when privileged or in host namespaces. */
export function exposureFactor(use: WorkloadUse): number {
  return 1 + (use.exposure.exposedBy.length ? 1 : 0) + (use.exposure.hostAccess.length ? 1 : 0);
}

const round = (n: number) => Math.round(n * 10) / 10;

function reportKeys(report: ImageReport): string[] {
  const keys = [...report.digests, ...(report.imageId ? [report.imageId] : [])];
  if (report.artifactName && !report.artifactName.endsWith('.tar')) {
    const ref = parseImageReference(report.artifactName);
    keys.push(`${repositoryKey(ref)}:${ref.tag ?? 'latest'}`);
    if (ref.digest) keys.push(ref.digest);
  }
  return keys;
}

export function analyzeImages(fleet: FleetImage[], reports: ImageReport[], options: AnalyzeOptions = {}): ImageAnalysis {
  const byKey = new Map<string, ImageReport>();
  for (const report of reports) for (const key of reportKeys(report)) if (!byKey.has(key)) byKey.set(key, report);
  const matched = new Set<ImageReport>();
  const images: AnalyzedImage[] = fleet.map((image) => {
    const tagKey = `${image.repository}:${image.reference.tag ?? 'latest'}`;
    let report = (image.digest && byKey.get(image.digest)) || (image.imageId && byKey.get(image.imageId)) || undefined;
    // A result found by tag only fits when it does not name a different digest.
    const byTag = byKey.get(tagKey);
    if (!report && byTag && (!image.digest || !byTag.digests.length)) report = byTag;
    if (report) matched.add(report);
    const entry: AnalyzedImage = {
      key: image.key, name: image.name, repository: image.repository, workloads: image.workloads, replicas: image.replicas,
      chain: [], vulnerabilities: [], ignored: 0, reach: 0, risk: 0,
    };
    if (image.digest) entry.digest = image.digest;
    if (report) {
      entry.report = report;
      // A digest-only reference (repo@sha256:…) reads better with the tag the scan result names.
      const scanned = !image.reference.tag && report.artifactName && !report.artifactName.endsWith('.tar') ? parseImageReference(report.artifactName) : undefined;
      if (scanned?.tag && repositoryKey(scanned) === image.repository) entry.name = displayName(scanned);
    }
    else entry.notScanned = options.failures?.get(image.key) ?? 'no scan result for this image (give --image-results, or let kscan run trivy)';
    return entry;
  });
  // Results for images no workload runs are still analyzed: CI output, registry audits.
  for (const report of reports) {
    if (matched.has(report)) continue;
    const ref = report.artifactName && !report.artifactName.endsWith('.tar') ? parseImageReference(report.artifactName) : undefined;
    const key = report.digests[0] ? `${ref ? repositoryKey(ref) : report.source}@${report.digests[0]}` : report.source;
    images.push({
      key, name: ref ? displayName(ref) : report.artifactName || report.source, repository: ref ? repositoryKey(ref) : '',
      ...(report.digests[0] ? { digest: report.digests[0] } : {}),
      workloads: [], replicas: 0, report, chain: [], vulnerabilities: [], ignored: 0, reach: 0, risk: 0,
    });
  }

  const lineage = computeLineage(
    images.filter((i) => i.report).map((i) => ({
      id: i.key, name: i.name, diffIds: i.report!.diffIds, digests: i.report!.digests, os: i.report!.os, baseName: i.report!.baseName, baseDigest: i.report!.baseDigest,
    })),
    options.catalogue,
  );
  for (const image of images) {
    image.chain = lineage.chains.get(image.key) ?? [];
    image.reach = image.workloads.reduce((sum, w) => sum + Math.max(1, w.replicas) * exposureFactor(w), 0);
    if (!image.report) continue;
    const names = [image.name, image.repository, image.report.artifactName];
    const reachFactor = Math.log2(1 + Math.max(1, image.reach));
    // Most vulnerabilities share a handful of layers: attribute each layer once.
    const origins = new Map<string | undefined, Attribution>();
    for (const v of image.report.vulnerabilities) {
      if (options.ignore?.length && isIgnored(options.ignore, v.id, names)) {
        image.ignored++;
        continue;
      }
      let origin = origins.get(v.layer);
      if (!origin) origins.set(v.layer, (origin = attribute(image.chain, image.report.diffIds, v.layer)));
      const analyzed: AnalyzedVulnerability = { ...v, origin, weight: vulnerabilityWeight(v) };
      image.vulnerabilities.push(analyzed);
      image.risk += analyzed.weight * reachFactor;
    }
    image.risk = round(image.risk);
  }
  images.sort((a, b) => b.risk - a.risk || a.name.localeCompare(b.name));
  return { images, lineage };
}

export function severityCounts(vulns: { severity: Severity }[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const v of vulns) counts[v.severity]++;
  return counts;
}

export const isFixableSerious = (v: ImageVulnerability) => Boolean(v.fixed) && SEVERITY_RANK[v.severity] >= SEVERITY_RANK.high;

export interface BaseFix {
  pkg: string;
  installed: string;
  fixed: string;
  ids: string[];
}

export interface BaseRanking {
  base: BaseImage;
  images: AnalyzedImage[];
  workloads: string[];
  replicas: number;
  /** Distinct (id, package) critical/high vulnerabilities with a fix that the base brings in. */
  fixableSerious: number;
  vulnerabilities: Record<Severity, number>;
  fixes: BaseFix[];
  risk: number;
}

/**
 * "Fix these base images first": for each base, what upgrading it removes — the distinct
 * critical/high vulnerabilities with a fix that it introduced, from how many workloads — ranked by
 * the risk those vulnerabilities carry across every image built on it.
 */
export function rankBases(analysis: ImageAnalysis): BaseRanking[] {
  const rankings = new Map<string, BaseRanking & { seen: Set<string>; fixMap: Map<string, BaseFix>; workloadSet: Set<string> }>();
  for (const image of analysis.images) {
    const reachFactor = Math.log2(1 + Math.max(1, image.reach));
    for (const base of image.chain) {
      let r = rankings.get(base.key);
      if (!r) rankings.set(base.key, (r = { base, images: [], workloads: [], replicas: 0, fixableSerious: 0, vulnerabilities: severityCounts([]), fixes: [], risk: 0, seen: new Set(), fixMap: new Map(), workloadSet: new Set() }));
      r.images.push(image);
      r.replicas += image.replicas;
      for (const w of image.workloads) r.workloadSet.add(workloadLabel(w.ref));
    }
    for (const v of image.vulnerabilities) {
      if (v.origin.kind !== 'base') continue;
      const r = rankings.get(v.origin.base.key)!;
      r.risk += v.weight * reachFactor;
      const id = `${v.id} ${v.pkg}`;
      if (r.seen.has(id)) continue;
      r.seen.add(id);
      r.vulnerabilities[v.severity]++;
      if (!isFixableSerious(v)) continue;
      r.fixableSerious++;
      const fixKey = `${v.pkg} ${v.installed}`;
      const fix = r.fixMap.get(fixKey) ?? { pkg: v.pkg, installed: v.installed, fixed: v.fixed!, ids: [] };
      fix.ids.push(v.id);
      r.fixMap.set(fixKey, fix);
    }
  }
  return [...rankings.values()]
    .map(({ seen: _s, fixMap, workloadSet, ...r }) => ({ ...r, risk: round(r.risk), workloads: [...workloadSet].sort(), fixes: [...fixMap.values()].sort((a, b) => b.ids.length - a.ids.length || a.pkg.localeCompare(b.pkg)) }))
    .sort((a, b) => b.risk - a.risk || b.fixableSerious - a.fixableSerious || a.base.name.localeCompare(b.base.name));
}

/** Workload risk: Σ over its images' vulnerabilities of weight × exposure × log2(1 + replicas). */
export function workloadRisks(analysis: ImageAnalysis): { workload: string; risk: number; images: number }[] {
  const risks = new Map<string, { risk: number; images: number }>();
  for (const image of analysis.images) {
    const weight = image.vulnerabilities.reduce((sum, v) => sum + v.weight, 0);
    for (const use of image.workloads) {
      const label = workloadLabel(use.ref);
      const entry = risks.get(label) ?? { risk: 0, images: 0 };
      entry.risk += weight * exposureFactor(use) * Math.log2(1 + Math.max(1, use.replicas));
      entry.images++;
      risks.set(label, entry);
    }
  }
  return [...risks].map(([workload, r]) => ({ workload, risk: round(r.risk), images: r.images })).sort((a, b) => b.risk - a.risk || a.workload.localeCompare(b.workload));
}

export interface VulnerabilitySpread {
  id: string;
  severity: Severity;
  cvss?: number;
  pkg: string;
  installed: string;
  fixed?: string;
  images: AnalyzedImage[];
  workloads: string[];
  risk: number;
}

/** Each vulnerability → the images carrying it → their workloads, worst first. */
export function vulnerabilitySpread(analysis: ImageAnalysis, filter?: (id: string) => boolean): VulnerabilitySpread[] {
  const spread = new Map<string, VulnerabilitySpread & { workloadSet: Set<string>; imageSet: Set<AnalyzedImage> }>();
  for (const image of analysis.images) {
    const reachFactor = Math.log2(1 + Math.max(1, image.reach));
    const labels = image.workloads.map((w) => workloadLabel(w.ref));
    for (const v of image.vulnerabilities) {
      if (filter && !filter(v.id)) continue;
      const key = `${v.id} ${v.pkg}`;
      let s = spread.get(key);
      if (!s) {
        spread.set(key, (s = { id: v.id, severity: v.severity, pkg: v.pkg, installed: v.installed, images: [], workloads: [], risk: 0, workloadSet: new Set(), imageSet: new Set() }));
        if (v.cvss !== undefined) s.cvss = v.cvss;
        if (v.fixed) s.fixed = v.fixed;
      }
      if (!s.imageSet.has(image)) {
        s.imageSet.add(image);
        s.images.push(image);
        for (const label of labels) s.workloadSet.add(label);
      }
      s.risk += v.weight * reachFactor;
    }
  }
  return [...spread.values()]
    .map(({ workloadSet, imageSet: _i, ...s }) => ({ ...s, risk: round(s.risk), workloads: [...workloadSet].sort() }))
    // Ordinal, not localeCompare: a fleet has ~100,000 distinct vulnerabilities and ICU collation dominated.
    .sort((a, b) => b.risk - a.risk || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
