// JUnit XML (for CI test views) and the Markdown summary (for pull request comments and job
// summaries) of the bundled demo, checked against the canonical result they were rendered from.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { SEVERITIES } from '../../src/model/types.js';
import { objectLabel } from '../../src/report/common.js';
import { parseXml, requireTool, type XmlElement } from '../support/browser.js';
import { demoReports, type DemoReports } from '../support/report-fixture.js';

/** Table cells of a Markdown row, split on `|` that are not backslash-escaped. */
function cells(row: string): string[] {
  return row.replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());
}

describe('JUnit report (demo cluster)', function () {
  this.timeout(120_000);
  let demo: DemoReports;
  let root: XmlElement;

  before(async function () {
    requireTool(this, 'chromium');
    demo = await demoReports();
    root = await parseXml(await readFile(demo.file('xml'), 'utf8'));
  });

  it('is well-formed XML with totals that add up', () => {
    expect(root.name).to.equal('testsuites');
    const suites = root.children.filter((c) => c.name === 'testsuite');
    const cases = suites.flatMap((s) => s.children);
    const sum = (attribute: string) => suites.reduce((n, s) => n + Number(s.attributes[attribute]), 0);
    expect(Number(root.attributes.tests)).to.equal(cases.length).and.to.equal(sum('tests'));
    expect(Number(root.attributes.failures)).to.equal(cases.filter((c) => c.children.some((x) => x.name === 'failure')).length).and.to.equal(sum('failures'));
    expect(Number(root.attributes.skipped)).to.equal(cases.filter((c) => c.children.some((x) => x.name === 'skipped')).length).and.to.equal(sum('skipped'));
    for (const testCase of cases) expect(testCase.name).to.equal('testcase');
  });

  it('has one test case per control, failing exactly the failed controls with the failing objects', () => {
    for (const framework of demo.result.compliance!) {
      const suite = root.children.find((s) => s.attributes.name === `${framework.title} ${framework.version}`.trim())!;
      expect(suite, framework.id).to.exist;
      expect(suite.children.map((c) => c.attributes.name)).to.deep.equal(framework.controls.map((c) => `${c.id} ${c.title}`));
      framework.controls.forEach((control, i) => {
        const [outcome] = suite.children[i].children;
        if (control.status === 'pass') expect(outcome, control.id).to.equal(undefined);
        else if (control.status === 'fail') {
          expect(outcome.name, control.id).to.equal('failure');
          expect(outcome.attributes.message, control.id).to.match(/^\d+ findings? on \d+ objects?: |^control failed/);
        } else expect(outcome.name, control.id).to.equal('skipped');
      });
    }
  });

  it('has one test case per check, failing with the findings as message and body', () => {
    const checkCases = root.children.filter((s) => s.attributes.name.startsWith('checks: ')).flatMap((s) => s.children);
    const ids = checkCases.map((c) => c.attributes.name.split(' ')[0]);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const check of demo.result.checks) expect(ids, check.id).to.include(check.id);
    for (const checkId of new Set(demo.result.findings.map((f) => f.checkId))) {
      const findings = demo.result.findings.filter((f) => f.checkId === checkId);
      const failure = checkCases.find((c) => c.attributes.name.startsWith(`${checkId} `))!.children[0];
      expect(failure.name, checkId).to.equal('failure');
      expect(failure.attributes.type).to.equal(findings[0].severity);
      expect(failure.attributes.message).to.match(new RegExp(`^${findings.length} findings? on \\d+ objects?: `));
      expect(failure.text).to.contain(`${findings[0].severity.toUpperCase()} ${objectLabel(findings[0].object)}: ${findings[0].message}`);
    }
  });
});

describe('Markdown summary (demo cluster)', () => {
  let demo: DemoReports;
  let markdown: string;

  before(async function () {
    this.timeout(120_000);
    demo = await demoReports();
    markdown = await readFile(demo.file('md'), 'utf8');
  });

  it('is short: counts, scores and the worst findings only', () => {
    expect(markdown.split('\n').length).to.be.lessThan(60);
    expect(markdown.length).to.be.lessThan(12_000);
    expect(markdown).to.contain(`${demo.result.summary.findings} findings on ${demo.result.summary.objects} objects`);
    const counts = markdown.split('\n')[6];
    expect(cells(counts)).to.deep.equal(SEVERITIES.map((s) => String(demo.result.summary.bySeverity[s])));
    for (const framework of demo.result.compliance!) expect(markdown).to.contain(`| ${framework.title.replace(/&/g, '&amp;')} | ${framework.score.percent}% |`);
  });

  it('lists the worst findings, critical first, in a table whose rows keep their columns', () => {
    const start = markdown.indexOf('| Severity | Check | Object | Finding | Where |');
    expect(start).to.be.greaterThan(0);
    const rows = markdown.slice(start).split('\n').filter((line) => line.startsWith('|')).slice(2);
    expect(rows).to.have.length(15);
    for (const row of rows) expect(cells(row), row).to.have.length(5);
    const critical = demo.result.summary.bySeverity.critical;
    expect(rows.map((row) => cells(row)[0])).to.deep.equal(Array.from({ length: 15 }, (_, i) => (i < critical ? 'critical' : 'high')).slice(0, 15));
    expect(markdown).to.match(/### Worst findings \(15 of \d+\)/);
  });

  it('has no link, image or HTML anywhere', () => {
    expect(markdown).not.to.match(/(?<!\\)\]\(/);
    expect(markdown).not.to.match(/https?:\/\//);
    expect(markdown).not.to.match(/<[a-z!/]/i);
  });
});
