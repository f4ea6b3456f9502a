// The PDF report read back with poppler, as an auditor's PDF reader would: page count, cover,
// contents pointing at the right pages, every control of every framework, headers and page
// numbers, nothing drawn outside the page or cut short, pages that render, and a large result.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { renderPdf } from '../../src/report/pdf.js';
import { targetLabel } from '../../src/report/common.js';
import type { ScanResult } from '../../src/scan/result.js';
import { requireTool } from '../support/browser.js';
import { demoReports, makeResult, type DemoReports } from '../support/report-fixture.js';

function poppler(bin: string, args: string[]): string {
  return execFileSync(bin, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
}

/** Text of each page, in drawing order (-raw), so a wrapped cell reads as one run. */
function pageTexts(file: string): string[] {
  return poppler('pdftotext', ['-raw', file, '-']).split('\f').slice(0, -1);
}

function pageCount(file: string): number {
  return Number(/^Pages:\s+(\d+)$/m.exec(poppler('pdfinfo', [file]))![1]);
}

/** Without whitespace: a name wrapped over two lines still reads as the name. */
const compact = (text: string) => text.replace(/\s+/g, '');

async function writePdf(result: ScanResult, name: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-pdf-')), name);
  await writeFile(file, await renderPdf(result));
  return file;
}

interface Word {
  page: number;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
  text: string;
}

/** Every word with its box (pdftotext -bbox), and each page's size. */
function words(file: string): { pages: { width: number; height: number }[]; words: Word[] } {
  const html = poppler('pdftotext', ['-bbox', file, '-']);
  const pages: { width: number; height: number }[] = [];
  const found: Word[] = [];
  for (const [, width, height, body] of html.matchAll(/<page width="([\d.]+)" height="([\d.]+)">([\s\S]*?)<\/page>/g)) {
    pages.push({ width: Number(width), height: Number(height) });
    for (const m of body.matchAll(/<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g)) {
      found.push({ page: pages.length, xMin: Number(m[1]), yMin: Number(m[2]), xMax: Number(m[3]), yMax: Number(m[4]), text: m[5] });
    }
  }
  return { pages, words: found };
}

describe('PDF report read back with poppler', function () {
  this.timeout(180_000);
  let demo: DemoReports;
  let pdf: string;
  let pages: string[];

  before(async function () {
    requireTool(this, 'poppler');
    demo = await demoReports();
    pdf = demo.file('pdf');
    pages = pageTexts(pdf);
  });

  it('has a cover with the cluster, date, kscan version and scope, and selectable text on every page', () => {
    const total = pageCount(pdf);
    expect(total).to.equal(pages.length).and.to.be.greaterThan(10);
    const info = poppler('pdfinfo', [pdf]);
    expect(info).to.match(/^Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)$/m);
    expect(info).to.contain(`Title:           kscan report: ${targetLabel(demo.result)}`);
    const cover = pages[0];
    const { cluster } = demo.result.scan.target;
    expect(cover).to.contain('Kubernetes security report');
    expect(cover).to.contain(cluster!.name);
    expect(cover).to.contain(`${cluster!.serverVersion} (${cluster!.platform})`);
    expect(cover).to.contain(demo.result.scan.startedAt);
    expect(cover).to.contain(`kscan version ${demo.result.kscanVersion}`);
    expect(cover).to.match(/Scope all checks/);
    for (const framework of demo.result.compliance!) expect(compact(cover)).to.contain(compact(framework.title));
    for (const [i, text] of pages.entries()) expect(text.trim().length, `page ${i + 1} has no text`).to.be.greaterThan(40);
  });

  it('puts a header and "page N of M" on every page but the cover', () => {
    const header = `kscan report: ${targetLabel(demo.result)}`;
    expect(pages[0]).not.to.contain('page 1 of');
    for (let i = 1; i < pages.length; i++) {
      expect(pages[i], `page ${i + 1}`).to.contain(header);
      expect(pages[i], `page ${i + 1}`).to.contain(`page ${i + 1} of ${pages.length}`);
      expect(pages[i], `page ${i + 1}`).to.contain(demo.result.scan.startedAt.slice(0, 10));
    }
  });

  it('has a table of contents whose page numbers lead to the sections', () => {
    const contents = pages[1];
    expect(contents).to.match(/^Contents$/m);
    const expected = ['Executive summary', ...demo.result.compliance!.map((f) => f.title), ...demo.result.sections!.map((s) => s.title), 'Appendix: findings'];
    for (const title of expected) {
      const line = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.* (\\d+)$`, 'm').exec(contents);
      expect(line, `contents lists ${title}`).to.not.equal(null);
      const page = Number(line![1]);
      expect(pages[page - 1], `${title} on page ${page}`).to.match(new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`, 'm'));
    }
  });

  it('lists every control of every framework in its section, with its status', () => {
    const contents = pages[1];
    const startOf = (title: string) => Number(new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.* (\\d+)$`, 'm').exec(contents)![1]);
    const frameworks = demo.result.compliance!;
    const next = [...frameworks.slice(1).map((f) => startOf(f.title)), startOf(demo.result.sections![0].title)];
    frameworks.forEach((framework, i) => {
      const text = pages.slice(startOf(framework.title) - 1, next[i] - 1).join('\n');
      const flat = compact(text);
      for (const control of framework.controls) {
        expect(flat, `${framework.id} ${control.id}`).to.contain(compact(`${control.id}${control.level ? ` (${control.level})` : ''}`));
        // Titles wrap inside their cell but are never shortened.
        expect(flat, `${framework.id} ${control.id} title`).to.contain(compact(control.title).replace(/[^\x20-\x7e]/g, '').slice(0, 60));
      }
      const failed = (text.match(/^fail$|\sfail\s/gm) ?? []).length;
      expect(failed, `${framework.id} fail statuses`).to.be.at.least(framework.controls.filter((c) => c.status === 'fail').length);
    });
  });

  it('lists every finding in the appendix and draws no word outside the page', () => {
    const appendix = compact(pages.slice(pages.findIndex((p) => /^Appendix: findings$/m.test(p))).join('\n'));
    for (const finding of demo.result.findings) expect(appendix, finding.fingerprint).to.contain(compact(`${finding.object.kind}/${finding.object.namespace ? finding.object.namespace + '/' : ''}${finding.object.name}`));
    const layout = words(pdf);
    const outside = layout.words.filter((w) => {
      const page = layout.pages[w.page - 1];
      return w.xMin < 0 || w.yMin < 0 || w.xMax > page.width - 30 || w.yMax > page.height - 20;
    });
    expect(outside.map((w) => `page ${w.page}: ${w.text} at ${w.xMax},${w.yMax}`)).to.deep.equal([]);
    expect(layout.words.length).to.be.greaterThan(5000);
  });

  it('renders pages to PNG with pdftoppm', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kscan-pdf-png-'));
    poppler('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '3', pdf, path.join(dir, 'page')]);
    const files = (await readdir(dir)).sort();
    expect(files).to.have.length(3);
    for (const file of files) {
      const png = await readFile(path.join(dir, file));
      expect(png.subarray(0, 8).toString('hex')).to.equal('89504e470d0a1a0a');
      // A blank page compresses to almost nothing; a page of text and charts does not.
      expect(png.length, file).to.be.greaterThan(8_000);
    }
  });

  it('wraps long names, titles and messages instead of cutting them', async () => {
    const result = makeResult({ findings: 12 });
    const longName = `payments-${'settlement-reconciliation-'.repeat(9)}worker`.slice(0, 253);
    const longMessage = `container ${longName} mounts ${'/var/lib/very/deep/host/path/'.repeat(10)} read-write → escalates to the node`;
    result.findings[0].object.name = longName;
    result.findings[0].message = longMessage;
    result.compliance![0].controls[0].title = `A control title long enough to wrap over several lines of its cell: ${'minimize the admission of privileged containers, '.repeat(4)}end`;
    result.sections![0].tables![0].title = `A section table with a very long title that must wrap in the table of contents instead of ending in an ellipsis: ${'and more words '.repeat(6)}end`;
    result.sections![0].figures![0].label = 'Images scanned by trivy from the registry mirror';
    const file = await writePdf(result, 'long.pdf');
    const text = compact(pageTexts(file).join('\n'));
    expect(text).to.contain(compact(`Deployment/${result.findings[0].object.namespace}/${longName}`));
    expect(text).to.contain(compact(longMessage.replace('→', '->')));
    expect(text).to.contain(compact(result.compliance![0].controls[0].title));
    expect(compact(pageTexts(file)[1])).to.contain(compact(result.sections![0].tables![0].title));
    expect(text).to.contain(compact('Images scanned by trivy from the registry mirror'));
    expect(text).not.to.contain('…');
  });

  it('gives the contents more pages when they do not fit on one', async () => {
    const result = makeResult({ findings: 10 });
    const table = result.sections![0].tables![0];
    result.sections![0].tables = Array.from({ length: 70 }, (_, i) => ({ ...table, title: `Table number ${i + 1} of the images section` }));
    const file = await writePdf(result, 'many-sections.pdf');
    const texts = pageTexts(file);
    const contents = texts.slice(1, 4).join('\n');
    for (let i = 1; i <= 70; i++) expect(contents, `table ${i}`).to.match(new RegExp(`^Table number ${i} of the images section \\d+$`, 'm'));
    const line = /^Table number 70 of the images section (\d+)$/m.exec(contents)!;
    expect(texts[Number(line[1]) - 1]).to.match(/^Table number 70 of the images section$/m);
    expect(texts[2]).not.to.match(/^Executive summary$/m);
  });

  it('still renders a 5,000-finding result, every finding in the appendix and tables split cleanly', async () => {
    const result = makeResult({ findings: 5000, namespaces: 40 });
    const file = await writePdf(result, 'large.pdf');
    const texts = pageTexts(file);
    expect(pageCount(file)).to.equal(texts.length).and.to.be.greaterThan(100);
    const start = texts.findIndex((p) => /^Appendix: findings$/m.test(p));
    const appendixPages = texts.slice(start, texts.findIndex((p) => /^Remediation by check$/m.test(p)) + 1);
    // The table header repeats on every page of the appendix.
    for (const [i, page] of appendixPages.slice(1).entries()) expect(page, `appendix page ${start + i + 2}`).to.match(/^Severity Check Object Finding Where$/m);
    const flat = compact(appendixPages.join('\n'));
    for (const finding of [result.findings[0], result.findings[2500], result.findings[4999]]) {
      expect(flat).to.contain(compact(`Deployment/${finding.object.namespace}/${finding.object.name}`));
      expect(flat).to.contain(compact(finding.location ? `${finding.location.file}:${finding.location.line}:${finding.location.column}` : finding.path));
    }
    expect(texts[texts.length - 1]).to.contain(`page ${texts.length} of ${texts.length}`);
  });
});
