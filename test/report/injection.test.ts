// Names, labels and messages come from the cluster and from files, so they are attacker-chosen:
// markup, Markdown links, quotes, terminal escapes, CDATA ends, line breaks and emoji must come
// out of every format as inert text (escaped, never executed) and every file must stay valid.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FORMATS } from '../../src/report/formats.js';
import type { ScanResult } from '../../src/scan/result.js';
import { openFile, parseXml, requireTool, type XmlElement } from '../support/browser.js';
import { sarifErrors } from '../support/sarif-schema.js';
import { HOSTILE, makeResult } from '../support/report-fixture.js';

function hostileResult(): ScanResult {
  const result = makeResult({ findings: 12, hostile: true, fileFindings: 6 });
  result.history = {
    target: 'cluster:demo',
    previous: { scannedAt: '2026-11-24T10:00:00.000Z', findings: 13, bySeverity: { critical: 3, high: 3, medium: 3, low: 2, info: 2 }, scores: { cis: 40 } },
    newFingerprints: [result.findings[0].fingerprint],
    resolved: [{ fingerprint: 'f0', checkId: 'KS-WL-001', title: `Privileged container${HOSTILE}`, severity: 'critical', object: `Deployment/shop/${HOSTILE}` }],
    stillOpen: 11,
    scoreChanges: [{ framework: 'cis', title: `CIS${HOSTILE}`, previous: 40, current: 50, change: 10 }],
    series: [
      { scannedAt: '2026-11-24T10:00:00.000Z', findings: 13, bySeverity: { critical: 3, high: 3, medium: 3, low: 2, info: 2 }, scores: { cis: 40 } },
      { scannedAt: '2026-11-25T10:00:00.000Z', findings: 12, bySeverity: { critical: 3, high: 3, medium: 2, low: 2, info: 2 }, scores: { cis: 50 } },
    ],
  };
  return result;
}

async function render(format: string, result: ScanResult): Promise<string | Buffer> {
  return FORMATS[format].render(result, { color: false });
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

describe('Injection: hostile names, labels and messages in every format', function () {
  this.timeout(120_000);
  const result = hostileResult();
  const hostileNamespace = result.findings.find((f) => f.object.namespace!.includes('<script>'))!.object.namespace!;
  /** HTML parsing turns a carriage return into a line feed, as browsers show it. */
  const asHtmlText = (text: string) => text.replace(/\r\n?/g, '\n');
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-injection-'));
  });

  it('covers every registered format', () => {
    expect(Object.keys(FORMATS).sort()).to.deep.equal(['html', 'json', 'junit', 'md', 'pdf', 'sarif', 'text']);
  });

  it('text: terminal escapes and line breaks are shown, not obeyed', async () => {
    const text = (await render('text', result)) as string;
    expect(text).not.to.match(RAW_CONTROL);
    expect(text).to.contain('\\x1b[31mred\\x1b[0m');
    expect(text).to.contain('\\x07bell');
    // The hostile line break stays inside its line: no line starts with the text after it.
    expect(text).to.contain('line\\nbreak\\r# heading 🔥');
    expect(text).not.to.match(/^break/m);
    expect(text).not.to.match(/^# heading/m);
    expect(text).to.contain('Trend');
  });

  it('json: valid, and the values are kept exactly (it is the canonical result)', async () => {
    const json = (await render('json', result)) as string;
    expect(json).not.to.match(RAW_CONTROL);
    expect(JSON.parse(json)).to.deep.equal(JSON.parse(JSON.stringify(result)));
  });

  it('sarif: valid against the schema, control characters JSON-escaped, no Markdown link in help', async () => {
    const text = (await render('sarif', result)) as string;
    expect(text).not.to.match(RAW_CONTROL);
    const sarif = JSON.parse(text) as { runs: { results: { message: { text: string } }[]; tool: { driver: { rules: { help: { markdown: string } }[] } } }[] };
    expect(sarifErrors(sarif)).to.deep.equal([]);
    expect(sarif.runs[0].results.map((r) => r.message.text).join('\n')).to.contain(HOSTILE.slice(0, 40));
    const help = sarif.runs[0].tool.driver.rules.map((r) => r.help.markdown).join('\n');
    expect(help).not.to.match(/(?<!\\)\]\(/);
    expect(help).not.to.match(/(?<!\\)<(script|img)/);
  });

  it('html: in Chromium no script runs, no dialog opens, nothing loads, and the text shows as typed', async function () {
    requireTool(this, 'chromium');
    const file = path.join(dir, 'hostile.html');
    await writeFile(file, (await render('html', result)) as string);
    const opened = await openFile(file);
    const { page } = opened;
    try {
      await page.waitForLoadState('load');
      expect(await page.locator('script').count()).to.equal(2); // the data and the report's own script
      expect(await page.locator('img, iframe, object, embed, a[href^="javascript"]').count()).to.equal(0);
      expect(await page.locator('#heatmap tbody th').allTextContents()).to.include(asHtmlText(hostileNamespace));
      expect(await page.textContent('#section-images h2')).to.equal(asHtmlText(result.sections![0].title));
      expect(await page.textContent('#trend')).to.contain(`Deployment/shop/${HOSTILE.slice(0, 60)}`);
      // The findings table (drawn by the script from the embedded JSON) shows the raw text too.
      await page.selectOption('#filter-namespace', hostileNamespace);
      expect(await page.locator('#findings-table tbody tr.finding td.object').allTextContents()).to.have.length(1);
      expect(await page.textContent('#findings-table tbody tr.finding td.object')).to.contain(hostileNamespace);
      await page.click('#filter-reset');
      await page.fill('#filter-text', '<script>alert(1)</script>');
      await page.waitForFunction(() => /match/.test(document.getElementById('findings-count')!.textContent ?? ''));
      for (const row of await page.locator('#findings-table tbody tr.finding').all()) await row.click();
      expect(await page.locator('#findings-table tbody tr.detail').count()).to.be.greaterThan(0);
      expect(await page.locator('img').count()).to.equal(0);
      expect(opened.dialogs).to.deep.equal([]);
      expect(opened.consoleErrors).to.deep.equal([]);
      expect(opened.requests).to.deep.equal([pathToFileURL(file).href]);
    } finally {
      await page.context().close();
    }
  });

  it('pdf: the text is drawn as text, with no script, link or action in the file', async function () {
    requireTool(this, 'poppler');
    const file = path.join(dir, 'hostile.pdf');
    const pdf = (await render('pdf', result)) as Buffer;
    await writeFile(file, pdf);
    expect(execFileSync('pdfinfo', [file], { encoding: 'utf8' })).to.match(/^JavaScript:\s+no$/m);
    const text = execFileSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
    expect(text).to.contain('<script>alert(1)</script> <img src=x onerror=alert(3)> **bold** [click](javascript:alert(2))');
    expect(text).to.contain('\\x1b[31mred\\x1b[0m');
    const raw = pdf.toString('latin1');
    for (const action of ['/JavaScript', '/JS ', '/URI', '/Launch', '/SubmitForm']) expect(raw, action).not.to.contain(action);
  });

  it('junit: well-formed XML whose attributes and bodies read back as the original text', async function () {
    requireTool(this, 'chromium');
    const xml = (await render('junit', result)) as string;
    expect(xml).not.to.match(RAW_CONTROL);
    expect(xml).not.to.contain(']]>');
    const root = await parseXml(xml);
    const names = new Set<string>();
    const walk = (element: XmlElement): XmlElement[] => [element, ...element.children.flatMap(walk)];
    for (const element of walk(root)) names.add(element.name);
    expect([...names].sort()).to.deep.equal(['failure', 'skipped', 'testcase', 'testsuite', 'testsuites']);
    const shown = (text: string) => text.replace(/[\u0007\u001b]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    const control = result.compliance![0].controls[0];
    const testCase = walk(root).find((e) => e.name === 'testcase' && e.attributes.name.startsWith(`${control.id} `))!;
    expect(testCase.attributes.name).to.equal(shown(`${control.id} ${control.title}`));
    expect(root.children[0].attributes.name).to.equal(shown(`${result.compliance![0].title} ${result.compliance![0].version}`));
    const failures = walk(root).filter((e) => e.name === 'failure').map((e) => e.text).join('\n');
    expect(failures).to.contain(shown(`container app runs privileged ${HOSTILE}`));
  });

  it('md: no link, image, HTML or heading can form, and table rows keep their columns', async () => {
    const md = (await render('md', result)) as string;
    expect(md).not.to.match(RAW_CONTROL);
    expect(md).not.to.match(/(?<!\\)\]\(/);
    expect(md).not.to.match(/<[a-z!/]/i);
    expect(md).not.to.match(/^#+ heading/m);
    expect(md).not.to.contain('javascript:alert(2))');
    const rows = md.split('\n').filter((line) => line.startsWith('| '));
    const header = rows.find((r) => r.startsWith('| Severity | Check'))!;
    const table = rows.slice(rows.indexOf(header) + 2, rows.indexOf(header) + 2 + result.findings.length);
    expect(table).to.have.length(result.findings.length);
    const columns = (row: string) => row.split(/(?<!\\)\|/).length;
    for (const row of table) expect(columns(row), row).to.equal(columns(header));
    expect(md).to.contain('\\[click\\]\\(javascript:alert\\(2\\)\\)');
    expect(md).to.contain('🔥');
  });
});
