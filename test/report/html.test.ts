// The HTML report of the bundled demo, opened in real Chromium: self-contained (no request but the
// file itself, no console error), every part of the report present, and the findings table's
// filters, search, sort and paging really change the rows shown.
import { expect } from 'chai';
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import type { Finding } from '../../src/model/types.js';
import { findingWhere, namespaceHeat, objectLabel } from '../../src/report/common.js';
import { openFile, requireTool, screenshot, type OpenedPage } from '../support/browser.js';
import { demoReports, type DemoReports } from '../support/report-fixture.js';

const PAGE_SIZE = 100;

/** The "N findings" / "N of M findings match" line and the rows drawn. */
async function shown(page: Page): Promise<{ line: string; rows: number }> {
  return { line: (await page.textContent('#findings-count'))!, rows: await page.locator('#findings-table tbody tr.finding').count() };
}

function expectShown(actual: { line: string; rows: number }, matching: number, total: number): void {
  expect(actual.line).to.equal(matching === total ? `${total} findings` : `${matching} of ${total} findings match`);
  expect(actual.rows).to.equal(Math.min(PAGE_SIZE, matching));
}

async function columnTexts(page: Page, column: number): Promise<string[]> {
  return page.locator(`#findings-table tbody tr.finding td:nth-child(${column})`).allTextContents();
}

describe('HTML report in Chromium (demo cluster)', function () {
  this.timeout(120_000);
  let demo: DemoReports;
  let opened: OpenedPage;
  let page: Page;
  let findings: Finding[];

  before(async function () {
    requireTool(this, 'chromium');
    demo = await demoReports();
    findings = demo.result.findings;
    opened = await openFile(demo.file('html'));
    page = opened.page;
  });
  after(async () => opened?.page.context().close());

  it('loads nothing but the file itself and logs no console error', async () => {
    await page.waitForLoadState('load');
    expect(opened.consoleErrors).to.deep.equal([]);
    expect(opened.requests).to.deep.equal([pathToFileURL(demo.file('html')).href]);
    expect(opened.dialogs).to.deep.equal([]);
  });

  it('has the executive summary: severity counts and a gauge per framework with its score', async () => {
    for (const [severity, count] of Object.entries(demo.result.summary.bySeverity)) {
      expect(await page.textContent(`#summary .sev-card.sev-${severity} .count`), severity).to.equal(String(count));
    }
    const gauges = page.locator('#summary .gauges figure.gauge');
    expect(await gauges.count()).to.equal(demo.result.compliance!.length).and.to.be.greaterThan(1);
    const labels = await page.locator('#summary .gauges .gauge-label').allTextContents();
    expect(labels).to.deep.equal(demo.result.compliance!.map((f) => (f.score.percent === null ? 'n/a' : `${f.score.percent}%`)));
    // The arc is drawn with the score as its length, and is visible.
    const dash = await page.locator('#summary .gauges .gauge-value').first().getAttribute('stroke-dasharray');
    expect(dash).to.equal(`${demo.result.compliance![0].score.percent} 100`);
    expect(await page.locator('#summary .top-objects li').count()).to.equal(10);
  });

  it('has a control table per framework with every control, its status and evidence', async () => {
    for (const framework of demo.result.compliance!) {
      const rows = page.locator(`#framework-${framework.id} table.controls tbody tr`);
      expect(await rows.count(), framework.id).to.equal(framework.controls.length);
      const ids = await page.locator(`#framework-${framework.id} table.controls tbody tr td:first-child`).allTextContents();
      expect(ids.map((id) => id.replace(/\s+L\d$/, ''))).to.deep.equal(framework.controls.map((c) => c.id));
      const statuses = await page.locator(`#framework-${framework.id} table.controls tbody tr .status`).allTextContents();
      expect(statuses.filter((s) => s === 'fail')).to.have.length(framework.controls.filter((c) => c.status === 'fail').length);
      const failing = framework.controls.find((c) => c.status === 'fail' && c.findings > 0);
      if (failing) expect(await rows.nth(framework.controls.indexOf(failing)).locator('ul.evidence li').count(), failing.id).to.be.greaterThan(0);
    }
  });

  it('has the namespace heat map and the images, RBAC and audit sections', async () => {
    const heat = namespaceHeat(findings);
    expect(await page.locator('#heatmap tbody th').allTextContents()).to.deep.equal(heat.map((row) => row.namespace));
    expect(await page.locator('#heatmap tbody td.total').allTextContents()).to.deep.equal(heat.map((row) => String(row.total)));
    for (const id of ['images', 'rbac', 'audit']) {
      const section = demo.result.sections!.find((s) => s.id === id)!;
      expect(section, id).to.exist;
      expect(await page.textContent(`#section-${id} h2`)).to.equal(section.title);
      expect(await page.locator(`#section-${id} table`).count(), id).to.equal(section.tables?.length ?? 0);
      expect(await page.isVisible(`#section-${id}`)).to.equal(true);
    }
  });

  it('filters by severity, namespace, check and framework, and counts the rows', async () => {
    const total = findings.length;
    expectShown(await shown(page), total, total);

    await page.selectOption('#filter-severity', { label: 'high' });
    const high = findings.filter((f) => f.severity === 'high').length;
    expectShown(await shown(page), high, total);
    expect(new Set(await page.locator('#findings-table tbody .pill').allTextContents())).to.deep.equal(new Set(['high']));
    await page.click('#filter-reset');

    await page.selectOption('#filter-namespace', 'shop');
    expectShown(await shown(page), findings.filter((f) => f.object.namespace === 'shop').length, total);
    for (const object of await columnTexts(page, 3)) expect(object).to.match(/^[^/]+\/shop\//);
    await page.selectOption('#filter-namespace', '(cluster)');
    expectShown(await shown(page), findings.filter((f) => !f.object.namespace).length, total);
    await page.click('#filter-reset');

    await page.selectOption('#filter-check', 'KS-IMG-001');
    expectShown(await shown(page), findings.filter((f) => f.checkId === 'KS-IMG-001').length, total);
    await page.click('#filter-reset');

    await page.selectOption('#filter-framework', 'pss');
    const pss = findings.filter((f) => f.controls.pss?.length).length;
    expect(pss).to.be.greaterThan(0).and.lessThan(total);
    expectShown(await shown(page), pss, total);

    // Filters combine.
    await page.selectOption('#filter-severity', { label: 'critical' });
    expectShown(await shown(page), findings.filter((f) => f.controls.pss?.length && f.severity === 'critical').length, total);
    await page.click('#filter-reset');
    expectShown(await shown(page), total, total);
  });

  it('searches object names, checks and messages', async () => {
    const total = findings.length;
    const search = async (text: string) => {
      const before = await page.textContent('#findings-count');
      await page.fill('#filter-text', text);
      await page.waitForFunction((previous) => document.getElementById('findings-count')!.textContent !== previous, before);
    };
    const haystack = (f: Finding) => `${f.checkId} ${f.title} ${f.object.kind}/${f.object.namespace ?? ''}/${f.object.name} ${f.message} ${findingWhere(f)}`.toLowerCase();
    await search('crm-app');
    const crm = findings.filter((f) => haystack(f).includes('crm-app')).length;
    expect(crm).to.be.greaterThan(0).and.lessThan(total);
    expectShown(await shown(page), crm, total);
    for (const row of await page.locator('#findings-table tbody tr.finding').allTextContents()) expect(row.toLowerCase()).to.contain('crm-app');

    await search('no such thing anywhere');
    expectShown(await shown(page), 0, total);
    expect(await page.textContent('#page-info')).to.equal('no rows');
    await page.click('#filter-reset');
    expectShown(await shown(page), total, total);
  });

  it('sorts by a column both ways and pages through the rows', async () => {
    await page.click('#findings-table th[data-sort="object"]');
    const ascending = await columnTexts(page, 3);
    const labels = findings.map((f) => objectLabel(f.object)).sort((a, b) => a.localeCompare(b));
    expect(ascending).to.deep.equal(labels.slice(0, PAGE_SIZE));
    expect(await page.getAttribute('#findings-table th[data-sort="object"]', 'aria-sort')).to.equal('ascending');
    await page.click('#findings-table th[data-sort="object"]');
    expect(await columnTexts(page, 3)).to.deep.equal([...labels].reverse().slice(0, PAGE_SIZE));

    await page.click('#page-next');
    expect(await page.textContent('#page-info')).to.match(new RegExp(`^rows 101–${Math.min(200, findings.length)} · page 2 of ${Math.ceil(findings.length / PAGE_SIZE)}$`));
    expect(await columnTexts(page, 3)).to.deep.equal([...labels].reverse().slice(PAGE_SIZE, 2 * PAGE_SIZE));

    // Back to worst first; a click on a row shows its remediation.
    await page.click('#findings-table th[data-sort="severity"]');
    expect(new Set((await page.locator('#findings-table tbody .pill').allTextContents()).slice(0, 5))).to.deep.equal(new Set(['critical']));
    await page.locator('#findings-table tbody tr.finding').first().click();
    const detail = await page.textContent('#findings-table tbody tr.detail');
    expect(detail).to.contain('Remediation');
    expect(detail).to.contain(findings.find((f) => f.fingerprint === (detail!.match(/Fingerprint([0-9a-f]+)/) ?? [])[1])?.remediation ?? 'no finding with that fingerprint');
  });

  it('prints every matching finding, without the filters and pager', async () => {
    await page.click('#filter-reset');
    await page.emulateMedia({ media: 'print' });
    await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    try {
      expect(await page.locator('#findings-table tbody tr.finding').count()).to.equal(findings.length);
      expect(await page.isVisible('#filters')).to.equal(false);
      expect(await page.isVisible('.pager')).to.equal(false);
      expect(await page.isVisible('#section-rbac')).to.equal(true);
    } finally {
      await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
      await page.emulateMedia({ media: 'screen' });
    }
    expect(await page.locator('#findings-table tbody tr.finding').count()).to.equal(PAGE_SIZE);
  });

  it('writes a screenshot for the CI artifacts, and stays free of console errors after all that', async () => {
    // The first screen (what a reader sees on a laptop) and the filtered findings table.
    await page.evaluate(() => window.scrollTo(0, 0));
    const file = await screenshot(page, 'report-demo.png', { fullPage: false });
    expect((await stat(file)).size).to.be.greaterThan(50_000);
    await page.selectOption('#filter-severity', { label: 'critical' });
    await page.locator('#findings').screenshot({ path: file.replace(/\.png$/, '-findings.png') });
    expect((await stat(file.replace(/\.png$/, '-findings.png'))).size).to.be.greaterThan(50_000);
    expect(opened.consoleErrors).to.deep.equal([]);
    expect(opened.requests).to.have.length(1);
  });
});
