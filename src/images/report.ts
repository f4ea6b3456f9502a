// One image's scan result, whatever produced it: trivy JSON (SchemaVersion 2) or a CycloneDX SBOM
// (trivy's or another tool's, with or without vulnerabilities). Only what kscan uses is kept, so
// thousands of reports fit in memory.
import type { Severity } from '../model/types.js';
import { isRecord } from '../inventory/podspec.js';
import { digestOf } from './reference.js';

export interface ImageVulnerability {
  id: string;
  pkg: string;
  installed: string;
  /** Versions that fix it, as the scanner wrote them ("3.0.13-1~deb12u1", or "1.2.3, 1.3.1"). */
  fixed?: string;
  severity: Severity;
  /** Highest CVSS v3 base score the scanner reported (NVD first). */
  cvss?: number;
  title?: string;
  /** DiffID of the layer that installed the package. */
  layer?: string;
}

export interface ImageReport {
  /** The file it came from, or "trivy <image>". */
  source: string;
  format: 'trivy' | 'cyclonedx';
  /** What the scanner called the image: a reference, an archive path. */
  artifactName: string;
  /** Manifest digests (sha256:…) from RepoDigests. */
  digests: string[];
  /** Config digest (trivy's ImageID). */
  imageId?: string;
  diffIds: string[];
  os?: string;
  /** org.opencontainers.image.base.name / .base.digest from the image's labels or annotations. */
  baseName?: string;
  baseDigest?: string;
  packages: number;
  vulnerabilities: ImageVulnerability[];
}

const TRIVY_SEVERITY: Record<string, Severity> = { CRITICAL: 'critical', HIGH: 'high', MEDIUM: 'medium', LOW: 'low', UNKNOWN: 'info', NONE: 'info', INFO: 'info' };
const BASE_NAME = 'org.opencontainers.image.base.name';
const BASE_DIGEST = 'org.opencontainers.image.base.digest';

export class ReportFormatError extends Error {}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Recognizes and reads a parsed JSON document; throws ReportFormatError naming what it is instead. */
export function parseImageReport(document: unknown, source: string): ImageReport {
  if (!isRecord(document)) throw new ReportFormatError('not a trivy JSON report or CycloneDX SBOM (expected a JSON object)');
  if (document.bomFormat === 'CycloneDX') return parseCycloneDx(document, source);
  if (typeof document.spdxVersion === 'string') throw new ReportFormatError(`SPDX SBOMs are not supported (found ${document.spdxVersion}); give a CycloneDX SBOM or trivy JSON`);
  if ('SchemaVersion' in document && ('Results' in document || 'ArtifactName' in document)) {
    if (document.SchemaVersion !== 2) throw new ReportFormatError(`trivy JSON SchemaVersion ${String(document.SchemaVersion)} is not supported (expected 2)`);
    return parseTrivy(document, source);
  }
  throw new ReportFormatError('not a trivy JSON report (SchemaVersion 2) or CycloneDX SBOM');
}

function cvssOf(value: unknown): number | undefined {
  if (!isRecord(value)) return undefined;
  const scores = Object.entries(value)
    .sort(([a], [b]) => (a === 'nvd' ? -1 : b === 'nvd' ? 1 : 0))
    .map(([, entry]) => (isRecord(entry) && typeof entry.V3Score === 'number' ? entry.V3Score : undefined))
    .filter((score): score is number => score !== undefined);
  return scores[0];
}

function parseTrivy(document: Record<string, unknown>, source: string): ImageReport {
  const metadata = isRecord(document.Metadata) ? document.Metadata : {};
  const config = isRecord(metadata.ImageConfig) ? metadata.ImageConfig : {};
  const labels = isRecord(config.config) && isRecord(config.config.Labels) ? config.config.Labels : {};
  const os = isRecord(metadata.OS) ? [str(metadata.OS.Family), str(metadata.OS.Name)].filter(Boolean).join(' ') : undefined;
  const rootfs = isRecord(config.rootfs) ? config.rootfs.diff_ids : undefined;
  const diffIds = list(metadata.DiffIDs).length ? list(metadata.DiffIDs) : list(rootfs);
  const report: ImageReport = {
    source,
    format: 'trivy',
    artifactName: str(document.ArtifactName) ?? '',
    digests: list(metadata.RepoDigests).map((d) => (typeof d === 'string' ? digestOf(d) : undefined)).filter((d): d is string => Boolean(d)),
    diffIds: diffIds.filter((d): d is string => typeof d === 'string'),
    packages: 0,
    vulnerabilities: [],
  };
  if (str(metadata.ImageID)) report.imageId = str(metadata.ImageID);
  if (os) report.os = os;
  if (str(labels[BASE_NAME])) report.baseName = str(labels[BASE_NAME]);
  if (str(labels[BASE_DIGEST])) report.baseDigest = str(labels[BASE_DIGEST]);
  if (!Array.isArray(document.Results) && document.Results !== undefined && document.Results !== null) throw new ReportFormatError('trivy JSON "Results" is not an array');
  for (const result of list(document.Results)) {
    if (!isRecord(result)) continue;
    report.packages += list(result.Packages).length;
    for (const v of list(result.Vulnerabilities)) {
      if (!isRecord(v) || !str(v.VulnerabilityID)) continue;
      const vuln: ImageVulnerability = {
        id: v.VulnerabilityID as string,
        pkg: str(v.PkgName) ?? '',
        installed: str(v.InstalledVersion) ?? '',
        severity: TRIVY_SEVERITY[String(v.Severity).toUpperCase()] ?? 'info',
      };
      if (str(v.FixedVersion)) vuln.fixed = v.FixedVersion as string;
      const cvss = cvssOf(v.CVSS);
      if (cvss !== undefined) vuln.cvss = cvss;
      if (str(v.Title)) vuln.title = v.Title as string;
      if (isRecord(v.Layer) && str(v.Layer.DiffID)) vuln.layer = v.Layer.DiffID as string;
      report.vulnerabilities.push(vuln);
    }
  }
  return report;
}

function properties(value: unknown): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of list(isRecord(value) ? value.properties : undefined)) if (isRecord(p) && str(p.name) && typeof p.value === 'string') map.set(p.name as string, p.value);
  return map;
}

const CDX_SEVERITY: Record<string, Severity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'info', none: 'info', unknown: 'info' };

function parseCycloneDx(document: Record<string, unknown>, source: string): ImageReport {
  const metadata = isRecord(document.metadata) ? document.metadata : {};
  const component = isRecord(metadata.component) ? metadata.component : {};
  const props = properties(component);
  const report: ImageReport = {
    source,
    format: 'cyclonedx',
    artifactName: str(component.name) ? `${component.name as string}${str(component.version) && !String(component.name).includes(':') ? `:${component.version as string}` : ''}` : '',
    digests: (props.get('aquasecurity:trivy:RepoDigest') ?? '').split(',').map((d) => digestOf(d.trim())).filter((d): d is string => Boolean(d)),
    diffIds: (props.get('aquasecurity:trivy:DiffID') ?? '').split(',').map((d) => d.trim()).filter(Boolean),
    packages: 0,
    vulnerabilities: [],
  };
  if (props.get('aquasecurity:trivy:ImageID')) report.imageId = props.get('aquasecurity:trivy:ImageID');
  const baseName = props.get(`aquasecurity:trivy:Labels:${BASE_NAME}`) ?? props.get(BASE_NAME);
  const baseDigest = props.get(`aquasecurity:trivy:Labels:${BASE_DIGEST}`) ?? props.get(BASE_DIGEST);
  if (baseName) report.baseName = baseName;
  if (baseDigest) report.baseDigest = baseDigest;
  if (document.components !== undefined && !Array.isArray(document.components)) throw new ReportFormatError('CycloneDX "components" is not an array');
  const byRef = new Map<string, { name: string; version: string; layer?: string }>();
  for (const c of list(document.components)) {
    if (!isRecord(c)) continue;
    if (c.type === 'operating-system') {
      report.os = [str(c.name), str(c.version)].filter(Boolean).join(' ');
      continue;
    }
    report.packages++;
    const ref = str(c['bom-ref']) ?? str(c.purl);
    if (ref) byRef.set(ref, { name: str(c.name) ?? ref, version: str(c.version) ?? '', layer: properties(c).get('aquasecurity:trivy:LayerDiffID') });
  }
  for (const v of list(document.vulnerabilities)) {
    if (!isRecord(v) || !str(v.id)) continue;
    const ratings = list(v.ratings).filter(isRecord);
    const severities = ratings.map((r) => CDX_SEVERITY[String(r.severity).toLowerCase()]).filter(Boolean);
    const severity = (['critical', 'high', 'medium', 'low', 'info'] as Severity[]).find((s) => severities.includes(s)) ?? 'info';
    const scores = ratings.filter((r) => String(r.method).startsWith('CVSSv3') && typeof r.score === 'number').map((r) => r.score as number);
    const recommendation = str(v.recommendation);
    for (const affect of list(v.affects)) {
      if (!isRecord(affect)) continue;
      const pkg = byRef.get(str(affect.ref) ?? '');
      const unaffected = list(affect.versions).filter((x) => isRecord(x) && x.status === 'unaffected').map((x) => str((x as Record<string, unknown>).version)).filter(Boolean);
      const fixed = unaffected.length ? unaffected.join(', ') : recommendation?.match(/to version (\S+?)[.;]?$/)?.[1];
      const vuln: ImageVulnerability = { id: v.id as string, pkg: pkg?.name ?? str(affect.ref) ?? '', installed: pkg?.version ?? '', severity };
      if (fixed) vuln.fixed = fixed;
      if (scores.length) vuln.cvss = Math.max(...scores);
      if (pkg?.layer) vuln.layer = pkg.layer;
      report.vulnerabilities.push(vuln);
    }
  }
  return report;
}
