// SARIF 2.1.0 for code scanning (GitHub and others): one rule per check, one result per finding.
// File findings carry the exact field's line and column; live objects a logical location
// (Kind/namespace/name). partialFingerprints carry the stable finding fingerprint so the same
// finding is recognised across runs. Coverage problems become tool execution notifications.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Finding, FrameworkControls, Severity } from '../model/types.js';
import type { CheckSummary, ScanResult } from '../scan/result.js';
import { KSCAN_HOMEPAGE, KSCAN_VERSION } from '../util/version.js';
import { controlTags, inputProblems, notCollected, objectLabel } from './common.js';
import { markdownEscape } from './sanitize.js';
import { STDIN_NAME } from '../collect/files.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifOptions {
  /** Directory file URIs are made relative to (default: the working directory). */
  cwd?: string;
}

/** GitHub maps security-severity to critical (9.0+), high (7.0+), medium (4.0+) and low. */
const SECURITY_SEVERITY: Record<Severity, string | undefined> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: undefined };
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };

interface RuleSource {
  id: string;
  title: string;
  severity: Severity;
  category: string;
  controls: FrameworkControls;
  description?: string;
  remediation?: string;
}

/** Rule names are identifiers in SARIF viewers: "Privileged container" → "PrivilegedContainer". */
function ruleName(title: string): string {
  return title.replace(/[^A-Za-z0-9]+(.)?/g, (_, next: string | undefined) => (next ? next.toUpperCase() : '')).replace(/^./, (c) => c.toUpperCase()) || 'Check';
}

function rule(source: RuleSource) {
  const description = source.description ?? source.title;
  const tags = ['security', 'kubernetes', source.category, ...controlTags(source.controls)];
  const controls = controlTags(source.controls);
  const helpText = [description, source.remediation ? `Remediation: ${source.remediation}` : '', controls.length ? `Controls: ${controls.join(', ')}` : ''].filter(Boolean).join('\n\n');
  const helpMarkdown = [
    `**${markdownEscape(source.title)}** (${source.id}, ${source.severity})`,
    markdownEscape(description),
    source.remediation ? `**Remediation:** ${markdownEscape(source.remediation)}` : '',
    controls.length ? `**Controls:** ${controls.map((c) => '`' + c.replace(/`/g, "'") + '`').join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  const securitySeverity = SECURITY_SEVERITY[source.severity];
  return {
    id: source.id,
    name: ruleName(source.title),
    shortDescription: { text: source.title },
    fullDescription: { text: description },
    help: { text: helpText, markdown: helpMarkdown },
    defaultConfiguration: { level: LEVEL[source.severity] },
    properties: {
      tags: [...new Set(tags)],
      precision: 'very-high',
      'problem.severity': LEVEL[source.severity] === 'note' ? 'recommendation' : LEVEL[source.severity],
      ...(securitySeverity ? { 'security-severity': securitySeverity } : {}),
      severity: source.severity,
      category: source.category,
    },
  };
}

/** A URI for a scanned file: relative to cwd when inside it (resolved against %SRCROOT%), else file://. */
export function artifactUri(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  const absolute = path.resolve(cwd, file);
  const relative = path.relative(cwd, absolute);
  if (relative && !relative.startsWith('..') && !path.isAbsolute(relative)) {
    return { uri: relative.split(path.sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  }
  return { uri: pathToFileURL(absolute).href };
}

function location(finding: Finding, cwd: string) {
  const { object } = finding;
  const logical = {
    name: object.name,
    fullyQualifiedName: objectLabel(object),
    kind: 'resource',
    properties: { apiVersion: object.apiVersion, kind: object.kind, ...(object.namespace ? { namespace: object.namespace } : {}), path: finding.path },
  };
  const file = finding.location?.file;
  if (!file || file === STDIN_NAME) return { logicalLocations: [logical] };
  return {
    physicalLocation: {
      artifactLocation: artifactUri(file, cwd),
      region: { startLine: finding.location!.line, startColumn: finding.location!.column },
    },
    logicalLocations: [logical],
  };
}

export function renderSarif(result: ScanResult, options: SarifOptions = {}): string {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  // Findings from extensions (audit, images) may come from checks not in result.checks.
  const sources = new Map<string, RuleSource>();
  for (const check of result.checks) sources.set(check.id, ruleSourceOf(check));
  for (const finding of result.findings) {
    if (!sources.has(finding.checkId)) sources.set(finding.checkId, { id: finding.checkId, title: finding.title, severity: finding.severity, category: finding.category, controls: finding.controls, remediation: finding.remediation });
  }
  const rules = [...sources.values()].map(rule);
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]));
  // A baseline given for this scan is the comparison the user asked for; else the history's previous scan.
  const comparison = result.baseline ?? (result.history?.previous ? result.history : undefined);
  const newFindings = new Set(comparison?.newFingerprints ?? []);

  const results = result.findings.map((finding) => ({
    ruleId: finding.checkId,
    ruleIndex: ruleIndex.get(finding.checkId)!,
    kind: 'fail',
    level: LEVEL[finding.severity],
    message: { text: `${objectLabel(finding.object)}: ${finding.message}` },
    locations: [location(finding, cwd)],
    partialFingerprints: { 'kscanFindingFingerprint/v1': finding.fingerprint },
    ...(comparison ? { baselineState: newFindings.has(finding.fingerprint) ? 'new' : 'unchanged' } : {}),
    properties: {
      severity: finding.severity,
      path: finding.path,
      remediation: finding.remediation,
      tags: controlTags(finding.controls),
    },
  }));

  const notifications = [
    ...notCollected(result).map((kind) => ({
      level: 'warning',
      message: { text: `${kind.kind} not collected (${kind.status}${kind.error ? `: ${kind.error}` : ''}); findings on it may be missing` },
      descriptor: { id: 'kscan/not-collected' },
    })),
    ...[...result.coverage.errors, ...result.errors].map((problem, i) => {
      const where = problem.source && problem.source !== STDIN_NAME && !/^[a-z]+:\/\//i.test(problem.source) && problem.line
        ? { locations: [{ physicalLocation: { artifactLocation: artifactUri(problem.source, cwd), region: { startLine: problem.line } } }] }
        : {};
      return {
        level: problem.stage === 'load' ? 'error' : 'warning',
        message: { text: inputProblems(result)[i] },
        descriptor: { id: `kscan/input-${problem.stage ?? 'collect'}` },
        ...where,
      };
    }),
  ];

  const sarif = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kscan',
            fullName: `kscan ${KSCAN_VERSION} Kubernetes security posture scanner`,
            version: KSCAN_VERSION,
            semanticVersion: KSCAN_VERSION,
            ...(KSCAN_HOMEPAGE ? { informationUri: KSCAN_HOMEPAGE } : {}),
            rules,
          },
        },
        invocations: [
          {
            executionSuccessful: !result.errors.some((error) => error.stage === 'load'),
            startTimeUtc: result.scan.startedAt,
            endTimeUtc: result.scan.finishedAt,
            toolExecutionNotifications: notifications,
          },
        ],
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(cwd + path.sep).href } },
        automationDetails: { id: `kscan/${result.scan.target.type}/${result.scan.target.name}/` },
        columnKind: 'utf16CodeUnits',
        results,
        properties: {
          target: result.scan.target,
          frameworks: result.scan.frameworks,
          summary: result.summary,
          ...(result.compliance ? { compliance: result.compliance.map((f) => ({ id: f.id, title: f.title, score: f.score.percent })) } : {}),
        },
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}

function ruleSourceOf(check: CheckSummary): RuleSource {
  return { id: check.id, title: check.title, severity: check.severity, category: check.category, controls: check.controls, description: check.description, remediation: check.remediation };
}
