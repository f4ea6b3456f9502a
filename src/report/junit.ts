// JUnit XML for CI systems: one testsuite per framework (a testcase per control) when the result
// has compliance, and one testsuite per check category (a testcase per check). A failing control
// or check is a <failure> whose message and body list the failing objects; manual and
// not-evaluated controls are <skipped> with the reason.
import type { Finding } from '../model/types.js';
import type { ScanResult } from '../scan/result.js';
import { controlEvidence, findingsByCheck, findingWhere, notCollected, objectLabel } from './common.js';
import { xmlAttribute, xmlEscape } from './sanitize.js';

/** Objects listed in a failure body before "… and N more". */
const MAX_LISTED = 50;

interface TestCase {
  name: string;
  classname: string;
  failure?: { message: string; type: string; body: string };
  skipped?: string;
}

function failureBody(findings: Finding[]): string {
  const lines = findings.slice(0, MAX_LISTED).map((f) => `${f.severity.toUpperCase()} ${objectLabel(f.object)}: ${f.message} (${findingWhere(f)})`);
  if (findings.length > MAX_LISTED) lines.push(`… and ${findings.length - MAX_LISTED} more`);
  return lines.join('\n');
}

function failureMessage(findings: Finding[]): string {
  const objects = [...new Set(findings.map((f) => objectLabel(f.object)))];
  const shown = objects.slice(0, 5).join(', ');
  return `${findings.length} finding${findings.length === 1 ? '' : 's'} on ${objects.length} object${objects.length === 1 ? '' : 's'}: ${shown}${objects.length > 5 ? `, … and ${objects.length - 5} more` : ''}`;
}

function suite(name: string, cases: TestCase[], timestamp: string): string {
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped !== undefined).length;
  const body = cases.map((c) => {
    const open = `    <testcase name="${xmlAttribute(c.name)}" classname="${xmlAttribute(c.classname)}" time="0"`;
    if (c.failure) return `${open}>\n      <failure message="${xmlAttribute(c.failure.message)}" type="${xmlAttribute(c.failure.type)}">${xmlEscape(c.failure.body)}</failure>\n    </testcase>`;
    if (c.skipped !== undefined) return `${open}>\n      <skipped message="${xmlAttribute(c.skipped)}"/>\n    </testcase>`;
    return `${open}/>`;
  });
  return [
    `  <testsuite name="${xmlAttribute(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0" timestamp="${xmlAttribute(timestamp)}">`,
    ...body,
    '  </testsuite>',
  ].join('\n');
}

export function renderJunit(result: ScanResult): string {
  const byCheck = findingsByCheck(result.findings);
  const timestamp = result.scan.startedAt.replace(/Z$/, '');
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  const add = (name: string, cases: TestCase[]) => {
    suites.push(suite(name, cases, timestamp));
    tests += cases.length;
    failures += cases.filter((c) => c.failure).length;
    skipped += cases.filter((c) => c.skipped !== undefined).length;
  };

  for (const framework of result.compliance ?? []) {
    const cases = framework.controls.map((control): TestCase => {
      const testCase: TestCase = { name: `${control.id} ${control.title}`, classname: `kscan.${framework.id}.${control.section || 'controls'}` };
      if (control.status === 'fail') {
        const evidence = controlEvidence(control, byCheck);
        testCase.failure = {
          message: evidence.length ? failureMessage(evidence) : `control failed (${control.findings} findings)`,
          type: 'control-failed',
          body: evidence.length ? failureBody(evidence) : control.reason ?? '',
        };
      } else if (control.status !== 'pass') {
        testCase.skipped = `${control.status}${control.reason ? `: ${control.reason}` : ''}`;
      }
      return testCase;
    });
    add(`${framework.title} ${framework.version}`.trim(), cases);
  }

  const byCategory = new Map<string, TestCase[]>();
  // Findings from extensions (audit, images) may come from checks not listed in result.checks.
  const listed = new Set(result.checks.map((check) => check.id));
  const checks = [...result.checks, ...[...byCheck.values()].filter((list) => !listed.has(list[0].checkId)).map(([f]) => ({ id: f.checkId, title: f.title, category: f.category, severity: f.severity, evaluated: 1 }))];
  for (const check of checks) {
    const findings = byCheck.get(check.id) ?? [];
    const testCase: TestCase = { name: `${check.id} ${check.title}`, classname: `kscan.checks.${check.category}` };
    if (findings.length) testCase.failure = { message: failureMessage(findings), type: check.severity, body: failureBody(findings) };
    else if (check.evaluated === 0) testCase.skipped = 'no object to check';
    let list = byCategory.get(check.category);
    if (!list) byCategory.set(check.category, (list = []));
    list.push(testCase);
  }
  for (const [category, cases] of [...byCategory].sort((a, b) => a[0].localeCompare(b[0]))) add(`checks: ${category}`, cases);

  const missing = notCollected(result);
  const properties = missing.length
    ? `  <!-- not collected: ${xmlEscape(missing.map((k) => `${k.kind} (${k.status})`).join(', ')).replace(/-(?=-)|-$/g, '- ')} -->\n`
    : '';
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kscan ${xmlAttribute(result.scan.target.name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${(result.scan.durationMs / 1000).toFixed(3)}">`,
    properties + suites.join('\n'),
    '</testsuites>',
    '',
  ].join('\n');
}
