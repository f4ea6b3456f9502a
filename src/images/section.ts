// The images part of the scan result: typed data (result.images, in the JSON Schema) and a generic
// ReportSection (figures and tables) that every report format renders without knowing images.
import type { Severity } from '../model/types.js';
import type { ReportSection } from '../scan/result.js';
import { workloadLabel } from './fleet.js';
import { rankBases, severityCounts, vulnerabilitySpread, workloadRisks, isFixableSerious, type AnalyzedImage, type BaseRanking, type ImageAnalysis } from './analyze.js';
import { shortDigest } from './reference.js';

export interface ImageEntry {
  name: string;
  repository: string;
  digest?: string;
  workloads: string[];
  replicas: number;
  scanned: boolean;
  notScanned?: string;
  source?: string;
  os?: string;
  /** Bases, innermost first. */
  bases: string[];
  vulnerabilities: Record<Severity, number>;
  fixable: number;
  /** Vulnerabilities inherited from a base, added by the image's own layers, or of unknown layer. */
  inherited: number;
  added: number;
  ignored: number;
  risk: number;
}

export interface BaseEntry {
  name: string;
  layers: number;
  via: string[];
  parent?: string;
  images: number;
  workloads: number;
  replicas: number;
  fixableCriticalHigh: number;
  vulnerabilities: Record<Severity, number>;
  fixes: { pkg: string; installed: string; fixed: string; ids: string[] }[];
  risk: number;
}

export interface ImagesResult {
  summary: {
    images: number;
    scanned: number;
    notScanned: number;
    workloads: number;
    vulnerabilities: number;
    fixableCriticalHigh: number;
    ignored: number;
    bySeverity: Record<Severity, number>;
    bases: number;
    imagesOnBases: number;
  };
  images: ImageEntry[];
  bases: BaseEntry[];
  topVulnerabilities: { id: string; severity: Severity; cvss?: number; pkg: string; installed: string; fixed?: string; images: number; workloads: number; risk: number }[];
  topWorkloads: { workload: string; risk: number; images: number }[];
}

function imageEntry(image: AnalyzedImage): ImageEntry {
  const entry: ImageEntry = {
    name: image.name,
    repository: image.repository,
    workloads: image.workloads.map((w) => workloadLabel(w.ref)),
    replicas: image.replicas,
    scanned: Boolean(image.report),
    bases: image.chain.map((b) => b.name),
    vulnerabilities: severityCounts(image.vulnerabilities),
    fixable: image.vulnerabilities.filter((v) => v.fixed).length,
    inherited: image.vulnerabilities.filter((v) => v.origin.kind === 'base').length,
    added: image.vulnerabilities.filter((v) => v.origin.kind === 'image').length,
    ignored: image.ignored,
    risk: image.risk,
  };
  if (image.digest) entry.digest = image.digest;
  if (image.notScanned) entry.notScanned = image.notScanned;
  if (image.report) entry.source = image.report.source;
  if (image.report?.os) entry.os = image.report.os;
  return entry;
}

function baseEntry(r: BaseRanking, names: Map<string, string>): BaseEntry {
  const entry: BaseEntry = {
    name: r.base.name, layers: r.base.layers, via: r.base.via, images: r.images.length, workloads: r.workloads.length, replicas: r.replicas,
    fixableCriticalHigh: r.fixableSerious, vulnerabilities: r.vulnerabilities, fixes: r.fixes, risk: r.risk,
  };
  if (r.base.parent && names.has(r.base.parent)) entry.parent = names.get(r.base.parent);
  return entry;
}

export function imagesResult(analysis: ImageAnalysis, limit = 50): ImagesResult {
  const bases = rankBases(analysis);
  const names = new Map([...analysis.lineage.bases.values()].map((b) => [b.key, b.name]));
  const all = analysis.images.flatMap((i) => i.vulnerabilities);
  const workloads = new Set(analysis.images.flatMap((i) => i.workloads.map((w) => workloadLabel(w.ref))));
  return {
    summary: {
      images: analysis.images.length,
      scanned: analysis.images.filter((i) => i.report).length,
      notScanned: analysis.images.filter((i) => !i.report).length,
      workloads: workloads.size,
      vulnerabilities: all.length,
      fixableCriticalHigh: all.filter(isFixableSerious).length,
      ignored: analysis.images.reduce((n, i) => n + i.ignored, 0),
      bySeverity: severityCounts(all),
      bases: bases.length,
      imagesOnBases: analysis.images.filter((i) => i.chain.length).length,
    },
    images: analysis.images.map(imageEntry),
    bases: bases.map((b) => baseEntry(b, names)),
    topVulnerabilities: vulnerabilitySpread(analysis).slice(0, limit).map((s) => ({
      id: s.id, severity: s.severity, ...(s.cvss !== undefined ? { cvss: s.cvss } : {}), pkg: s.pkg, installed: s.installed, ...(s.fixed ? { fixed: s.fixed } : {}),
      images: s.images.length, workloads: s.workloads.length, risk: s.risk,
    })),
    topWorkloads: workloadRisks(analysis).slice(0, limit),
  };
}

const counts = (v: Record<Severity, number>) => `${v.critical}/${v.high}/${v.medium}/${v.low}`;

/** Bases as a tree (innermost at the root) with their blast radius: images and workloads built on them. */
function lineageRows(result: ImagesResult): (string | number)[][] {
  const children = new Map<string | undefined, BaseEntry[]>();
  for (const base of result.bases) children.set(base.parent, [...(children.get(base.parent) ?? []), base]);
  const rows: (string | number)[][] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const base of children.get(parent) ?? []) {
      // No-break spaces: HTML keeps the indentation, so the tree reads as one.
      rows.push([`${'\u00a0\u00a0\u00a0'.repeat(depth)}${depth ? '└─\u00a0' : ''}${base.name}`, base.via.join(', '), base.layers, base.images, base.workloads, base.replicas]);
      if (depth < 8) walk(base.name, depth + 1);
    }
  };
  walk(undefined, 0);
  return rows;
}

export function imagesReportSection(result: ImagesResult, top = 10): ReportSection {
  const s = result.summary;
  const fixFirst = result.bases.filter((b) => b.fixableCriticalHigh > 0).slice(0, top);
  const lead = fixFirst[0];
  return {
    id: 'images',
    title: 'Images and base-image lineage',
    summary:
      `${s.images} images (${s.scanned} scanned, ${s.notScanned} not scanned) used by ${s.workloads} workloads; ${s.imagesOnBases} derive from ${s.bases} base images.` +
      (lead ? ` Upgrading ${lead.name} removes ${lead.fixableCriticalHigh} critical/high vulnerabilities from ${lead.workloads} workloads.` : ''),
    figures: [
      { label: 'Images', value: s.images },
      { label: 'Not scanned', value: s.notScanned, ...(s.notScanned ? { severity: 'info' as const } : {}) },
      { label: 'Critical vulnerabilities', value: s.bySeverity.critical, severity: 'critical' },
      { label: 'High vulnerabilities', value: s.bySeverity.high, severity: 'high' },
      { label: 'Fixable critical/high', value: s.fixableCriticalHigh, severity: 'high' },
      { label: 'Base images', value: s.bases },
    ],
    tables: [
      {
        title: 'Fix these base images first',
        columns: ['Base image', 'Removes critical/high', 'Workloads', 'Images', 'Fixed versions', 'Risk'],
        rows: fixFirst.map((b) => [
          b.name, b.fixableCriticalHigh, b.workloads, b.images,
          b.fixes.slice(0, 4).map((f) => `${f.pkg} ${f.installed} → ${f.fixed}`).join('; ') + (b.fixes.length > 4 ? `; +${b.fixes.length - 4} more` : ''),
          b.risk,
        ]),
        note: 'Distinct critical/high vulnerabilities with a fix that the base introduced (by layer), and the workloads running images built on it.',
      },
      {
        title: 'Top vulnerable images',
        columns: ['Image', 'Digest', 'Base', 'Critical/high/medium/low', 'Fixable', 'Workloads', 'Replicas', 'Risk'],
        rows: result.images.filter((i) => i.scanned).slice(0, top).map((i) => [i.name, shortDigest(i.digest), i.bases[i.bases.length - 1] ?? '', counts(i.vulnerabilities), i.fixable, i.workloads.length, i.replicas, i.risk]),
      },
      {
        title: 'Base-image lineage',
        columns: ['Base image', 'Found by', 'Layers', 'Images', 'Workloads', 'Replicas'],
        rows: lineageRows(result),
      },
      {
        title: 'Images not scanned',
        columns: ['Image', 'Workloads', 'Reason'],
        rows: result.images.filter((i) => !i.scanned).map((i) => [i.name, i.workloads.join(', '), i.notScanned ?? '']),
      },
    ].filter((t) => t.rows.length),
  };
}
