// Image findings in the canonical model: one per workload container and vulnerability class, on
// the container's image field, so they flow into every report and gate --fail-on like any other.
import type { Finding } from '../model/types.js';
import type { FindingSource } from '../findings/finding.js';
import { makeFinding } from '../findings/finding.js';
import type { AnalyzedImage, AnalyzedVulnerability } from './analyze.js';

export const IMAGE_FINDINGS = {
  criticalFixable: {
    id: 'KS-IMG-001',
    title: 'Critical vulnerability with a fix available',
    severity: 'critical',
    category: 'image',
    remediation: 'Rebuild the image on a patched base image or upgrade the listed packages to the fixed versions, then redeploy.',
    controls: {},
  },
  highFixable: {
    id: 'KS-IMG-002',
    title: 'High-severity vulnerability with a fix available',
    severity: 'high',
    category: 'image',
    remediation: 'Rebuild the image on a patched base image or upgrade the listed packages to the fixed versions, then redeploy.',
    controls: {},
  },
  criticalUnfixed: {
    id: 'KS-IMG-003',
    title: 'Critical vulnerability with no fix yet',
    severity: 'medium',
    category: 'image',
    remediation: 'Track the upstream fix; meanwhile reduce exposure (no privileges, no host namespaces, not reachable from outside) or accept it in the ignore list with a reason and an expiry.',
    controls: {},
  },
  notScanned: {
    id: 'KS-IMG-004',
    title: 'Image not scanned for vulnerabilities',
    severity: 'info',
    category: 'image',
    remediation: 'Give kscan a trivy report or SBOM for the image (--image-results), or make the image pullable by trivy.',
    controls: {},
  },
} satisfies Record<string, FindingSource>;

export const IMAGE_FINDING_SOURCES: FindingSource[] = Object.values(IMAGE_FINDINGS);

function describe(vulns: AnalyzedVulnerability[], limit = 3): string {
  const shown = vulns.slice(0, limit).map((v) => `${v.id} (${v.pkg} ${v.installed}${v.fixed ? ` → ${v.fixed}` : ''})`);
  return shown.join(', ') + (vulns.length > limit ? `, and ${vulns.length - limit} more` : '');
}

function origin(vulns: AnalyzedVulnerability[]): string {
  const bases = new Map<string, number>();
  for (const v of vulns) if (v.origin.kind === 'base') bases.set(v.origin.base.name, (bases.get(v.origin.base.name) ?? 0) + 1);
  return [...bases].map(([name, n]) => `; ${n} inherited from base ${name}`).join('');
}

const byWeight = (a: AnalyzedVulnerability, b: AnalyzedVulnerability) => b.weight - a.weight || a.id.localeCompare(b.id);

/** The finding classes an image raises, with their message: shared by the findings and the images command's --fail-on. */
export function findingClasses(image: AnalyzedImage): [FindingSource, AnalyzedVulnerability[], string][] {
  const classes: [FindingSource, AnalyzedVulnerability[], string][] = [];
  if (image.report) {
    const distinct = [...new Map(image.vulnerabilities.map((v) => [`${v.id} ${v.pkg}`, v])).values()].sort(byWeight);
    const critical = distinct.filter((v) => v.severity === 'critical' && v.fixed);
    const high = distinct.filter((v) => v.severity === 'high' && v.fixed);
    const unfixed = distinct.filter((v) => v.severity === 'critical' && !v.fixed);
    const count = (n: number, what: string) => `${n} ${what} vulnerabilit${n === 1 ? 'y' : 'ies'}`;
    if (critical.length) classes.push([IMAGE_FINDINGS.criticalFixable, critical, `image ${image.name} has ${count(critical.length, 'critical')} with a fix: ${describe(critical)}${origin(critical)}`]);
    if (high.length) classes.push([IMAGE_FINDINGS.highFixable, high, `image ${image.name} has ${count(high.length, 'high')} with a fix: ${describe(high)}${origin(high)}`]);
    if (unfixed.length) classes.push([IMAGE_FINDINGS.criticalUnfixed, unfixed, `image ${image.name} has ${count(unfixed.length, 'critical')} with no fix yet: ${describe(unfixed)}`]);
  } else if (image.notScanned) {
    classes.push([IMAGE_FINDINGS.notScanned, [], `image ${image.name} was not scanned: ${image.notScanned}`]);
  }
  return classes;
}

export function imageFindings(images: AnalyzedImage[], sources: FindingSource[] = IMAGE_FINDING_SOURCES): Finding[] {
  const enabled = new Set(sources.map((s) => s.id));
  const findings: Finding[] = [];
  for (const image of images) {
    for (const [source, , message] of findingClasses(image)) {
      if (!enabled.has(source.id)) continue;
      for (const use of image.workloads) {
        for (const container of use.containers) findings.push(makeFinding(source, use.workload, container.path, `container ${container.name}: ${message}`));
      }
    }
  }
  return findings;
}
