// Scan results built in code for the report tests and bench/reports.mjs: findings from files and
// live objects, compliance for two frameworks, a generic section, history, and (on request)
// hostile names, labels and messages that every format must escape.
import { mkdtemp, readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Finding, Severity } from '../../src/model/types.js';
import { SEVERITIES } from '../../src/model/types.js';
import type { ControlResult, FrameworkResult, ScanResult } from '../../src/scan/result.js';
import { fingerprint } from '../../src/findings/finding.js';
import { runKscan } from './cli.js';

/** Every format kscan writes, as --format takes them. */
export const ALL_FORMATS = ['text', 'json', 'sarif', 'html', 'pdf', 'junit', 'md'];

export interface DemoReports {
  dir: string;
  /** The canonical result the other files were rendered from. */
  result: ScanResult;
  /** Path of the report with this extension (html, pdf, xml, md, sarif, json, txt). */
  file(extension: string): string;
}

let demo: Promise<DemoReports> | undefined;

/** The README's first command (every format of the bundled demo), run once per test run. */
export function demoReports(): Promise<DemoReports> {
  demo ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-demo-reports-'));
    const run = await runKscan(['cluster', '--snapshot', 'fixtures/demo', '--format', ALL_FORMATS.join(','), '--output-dir', dir]);
    if (run.code !== 0) throw new Error(`kscan cluster --snapshot fixtures/demo exited ${run.code}: ${run.stderr}`);
    const files = await readdir(dir);
    const stem = files.find((f) => f.endsWith('.json'))!.replace(/\.json$/, '');
    const file = (extension: string) => path.join(dir, `${stem}.${extension}`);
    return { dir, file, result: JSON.parse(readFileSync(file('json'), 'utf8')) as ScanResult };
  })();
  return demo;
}

/** Every kind of text that has broken a report somewhere: markup, Markdown links, quotes, control characters. */
export const HOSTILE = `<script>alert(1)</script> <img src=x onerror=alert(3)> **bold** [click](javascript:alert(2)) "quoted" 'single' \`tick\` | pipe \u0007bell\u001b[31mred\u001b[0m & </script><!-- --> ]]> line\nbreak\r# heading 🔥 \u2028`;

const CHECKS: { id: string; title: string; severity: Severity; category: string; controls: Record<string, string[]> }[] = [
  { id: 'KS-WL-001', title: 'Privileged container', severity: 'critical', category: 'workload', controls: { 'cis-k8s-1.10': ['5.2.2'], pss: ['baseline/privileged'] } },
  { id: 'KS-WL-002', title: 'Privilege escalation allowed', severity: 'high', category: 'workload', controls: { 'cis-k8s-1.10': ['5.2.5'], pss: ['restricted/allowPrivilegeEscalation'] } },
  { id: 'KS-WL-009', title: 'Container runs as UID 0', severity: 'medium', category: 'workload', controls: { 'cis-k8s-1.10': ['5.2.6'] } },
  { id: 'KS-NET-001', title: 'NodePort service', severity: 'low', category: 'network', controls: { nsa: ['network-separation'] } },
  { id: 'KS-GEN-001', title: 'Default namespace in use', severity: 'info', category: 'general', controls: {} },
];

export interface FixtureOptions {
  findings?: number;
  hostile?: boolean;
  namespaces?: number;
  /** Put this many of the findings in files (the rest are live objects). */
  fileFindings?: number;
  startedAt?: string;
}

function control(id: string, title: string, section: string, status: ControlResult['status'], checks: string[], findings: number, reason?: string): ControlResult {
  return { id, title, section, status, checks, findings, ...(reason ? { reason } : {}) };
}

function score(controls: ControlResult[]) {
  const count = (status: string) => controls.filter((c) => c.status === status).length;
  const passed = count('pass');
  const failed = count('fail');
  return { passed, failed, manual: count('manual'), notApplicable: count('not-applicable'), notEvaluated: count('not-evaluated'), provider: count('provider'), percent: passed + failed ? Math.round((passed / (passed + failed)) * 1000) / 10 : null };
}

export function makeResult(options: FixtureOptions = {}): ScanResult {
  const total = options.findings ?? 40;
  const namespaces = options.namespaces ?? 6;
  const fileFindings = options.fileFindings ?? Math.floor(total / 2);
  const hostile = options.hostile ? HOSTILE : '';
  const findings: Finding[] = [];
  for (let i = 0; i < total; i++) {
    const check = CHECKS[i % CHECKS.length];
    const namespace = `team-${i % namespaces}${i === 0 ? hostile : ''}`;
    const name = `app-${Math.floor(i / CHECKS.length)}${i === 1 ? hostile : ''}`;
    const object = { apiVersion: 'apps/v1', kind: 'Deployment', namespace, name };
    const path = `spec.template.spec.containers[0].securityContext.privileged`;
    const finding: Finding = {
      fingerprint: fingerprint(check.id, object, path + i),
      checkId: check.id,
      title: check.title,
      severity: check.severity,
      category: check.category,
      object,
      path,
      message: `container app runs privileged${i === 2 ? ' ' + hostile : ''}`,
      remediation: `Set securityContext.privileged to false.${i === 3 ? ' ' + hostile : ''}`,
      controls: check.controls,
    };
    if (i < fileFindings) finding.location = { file: `deploy/team-${i % namespaces}/app-${i}.yaml`, line: 10 + (i % 30), column: 13 };
    findings.push(finding);
  }
  findings.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  const failedBy = (id: string) => findings.filter((f) => f.checkId === id).length;

  const cisControls = [
    control('5.2.2', `Minimize the admission of privileged containers${hostile}`, '5.2', failedBy('KS-WL-001') ? 'fail' : 'pass', ['KS-WL-001'], failedBy('KS-WL-001')),
    control('5.2.5', 'Minimize the admission of containers with allowPrivilegeEscalation', '5.2', failedBy('KS-WL-002') ? 'fail' : 'pass', ['KS-WL-002'], failedBy('KS-WL-002')),
    control('5.2.6', 'Minimize the admission of root containers', '5.2', failedBy('KS-WL-009') ? 'fail' : 'pass', ['KS-WL-009'], failedBy('KS-WL-009')),
    control('5.2.1', 'Ensure that the cluster has at least one active policy control mechanism', '5.2', 'pass', ['KS-ADM-001'], 0),
    control('1.1.1', 'Ensure that the API server pod specification file permissions are set to 600', '1.1', 'manual', [], 0, 'stat -c %a /etc/kubernetes/manifests/kube-apiserver.yaml shows 600 or stricter.'),
    control('3.2.1', 'Ensure that a minimal audit policy is created', '3.2', 'not-evaluated', [], 0, 'needs the API server flags'),
  ];
  const pssControls = [
    control('baseline/privileged', 'Privileged Containers', 'baseline', failedBy('KS-WL-001') ? 'fail' : 'pass', ['KS-WL-001'], failedBy('KS-WL-001')),
    control('restricted/allowPrivilegeEscalation', 'Privilege Escalation', 'restricted', failedBy('KS-WL-002') ? 'fail' : 'pass', ['KS-WL-002'], failedBy('KS-WL-002')),
    control('baseline/hostNamespaces', 'Host Namespaces', 'baseline', 'pass', ['KS-WL-004'], 0),
  ];
  const framework = (id: string, title: string, version: string, controls: ControlResult[]): FrameworkResult => ({
    id,
    title,
    version,
    controls,
    score: score(controls),
    sections: [...new Set(controls.map((c) => c.section))].map((section) => ({ id: section, title: `Section ${section}`, score: score(controls.filter((c) => c.section === section)) })),
    namespaces: [],
  });

  const startedAt = options.startedAt ?? '2026-11-25T10:00:00.000Z';
  return {
    schemaVersion: '1.0',
    kscanVersion: '0.1.0',
    scan: {
      target: { type: 'snapshot', name: `demo${hostile}`, cluster: { name: `demo${hostile}`, serverVersion: 'v1.31.2', platform: 'kubeadm' } },
      collectedAt: startedAt,
      startedAt,
      finishedAt: startedAt,
      durationMs: 1234,
      frameworks: [],
    },
    summary: { objects: total + 10, checks: CHECKS.length, findings: findings.length, bySeverity },
    coverage: {
      kinds: [
        { group: 'apps', version: 'v1', kind: 'Deployment', status: 'collected', count: total },
        { group: 'snapshot.storage.k8s.io', version: 'v1', kind: `VolumeSnapshotContent${hostile}`, status: 'forbidden', count: 0, error: `forbidden: User "system:serviceaccount:kscan" cannot list${hostile}` },
      ],
      errors: [{ source: `deploy/broken${hostile}.yaml`, line: 3, message: `invalid YAML${hostile}`, stage: 'collect' }],
    },
    checks: CHECKS.map((check) => ({ ...check, description: `${check.title}: why it matters.${hostile}`, remediation: 'Fix it.', evaluated: total, failed: failedBy(check.id) })),
    findings,
    errors: [],
    compliance: [framework('cis', `CIS Kubernetes Benchmark${hostile}`, 'v1.10.0', cisControls), framework('pss-restricted', 'Pod Security Standards: Restricted', 'v1.34', pssControls)],
    sections: [
      {
        id: 'images',
        title: `Images${hostile}`,
        summary: `Vulnerabilities by base image.${hostile}`,
        figures: [
          { label: 'Images', value: 42 },
          { label: `Critical vulnerabilities${hostile}`, value: 7, severity: 'critical' },
        ],
        tables: [{ title: 'Base images to upgrade first', columns: ['Base image', 'Images', 'Critical'], rows: [['debian:11', 12, 5], [`alpine:3.14${hostile}`, 4, 2]], note: 'Upgrade these first.' }],
      },
    ],
  };
}
