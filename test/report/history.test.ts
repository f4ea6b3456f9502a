// Scan history: the same manifests scanned twice with --history, fixed and broken in between. The
// second scan's JSON, text and HTML say what is new, resolved and still open and how each score
// moved, and the HTML draws the trend chart once there are two scans; `kscan report --history`
// shows the same trend for a saved result without recording it again.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ScanResult } from '../../src/scan/result.js';
import { execFileSync } from 'node:child_process';
import { renderPdf } from '../../src/report/pdf.js';
import { openFile, requireTool } from '../support/browser.js';
import { runKscan } from '../support/cli.js';

const PRIVILEGED_POD = `apiVersion: v1
kind: Pod
metadata: { name: debug, namespace: shop }
spec:
  containers:
    - name: debug
      image: busybox:1.36
      securityContext: { privileged: true }
`;

interface Scan {
  result: ScanResult;
  text: string;
  html: string;
  dir: string;
}

describe('Scan history (--history)', function () {
  this.timeout(120_000);
  let work: string;
  let manifests: string;
  let db: string;
  let first: Scan;
  let second: Scan;

  async function scan(name: string): Promise<Scan> {
    const dir = path.join(work, name);
    const run = await runKscan(['manifests', manifests, '--history', db, '--format', 'text,json,html', '--output-dir', dir]);
    expect(run.code, run.stderr).to.equal(0);
    const file = (extension: string) => path.join(dir, `kscan-manifests.${extension}`);
    return { dir, result: JSON.parse(await readFile(file('json'), 'utf8')) as ScanResult, text: await readFile(file('txt'), 'utf8'), html: await readFile(file('html'), 'utf8') };
  }

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'kscan-history-'));
    manifests = path.join(work, 'manifests');
    db = path.join(work, 'state', 'history.sqlite');
    await cp('fixtures/manifests/shop', manifests, { recursive: true });
    first = await scan('first');
    // Between the scans: the CronJob is removed, the API image pinned, a privileged Pod added.
    await rm(path.join(manifests, 'reports-cronjob.yaml'));
    const api = path.join(manifests, 'api.yaml');
    await writeFile(api, (await readFile(api, 'utf8')).replace('shop-api:latest', 'shop-api:1.4.2'));
    await writeFile(path.join(manifests, 'debug-pod.yaml'), PRIVILEGED_POD);
    second = await scan('second');
  });

  it('records the first scan and says the trend starts there', () => {
    expect(existsSync(db)).to.equal(true);
    const { history } = first.result;
    expect(history!.previous).to.equal(undefined);
    expect(history!.series).to.have.length(1);
    expect(first.text).to.contain('First recorded scan of this target: the trend starts here.');
    expect(first.html).to.contain('id="trend"');
    expect(first.html).not.to.contain('class="trend-chart"');
  });

  it('reports new, resolved and still open findings and every score change in the JSON', () => {
    const before = new Set(first.result.findings.map((f) => f.fingerprint));
    const now = new Set(second.result.findings.map((f) => f.fingerprint));
    const expectedNew = [...now].filter((f) => !before.has(f));
    const expectedResolved = [...before].filter((f) => !now.has(f));
    expect(expectedNew.length).to.be.greaterThan(0);
    expect(expectedResolved.length).to.be.greaterThan(1);
    const history = second.result.history!;
    expect(history.previous!.scannedAt).to.equal(first.result.scan.startedAt);
    expect(history.previous!.findings).to.equal(first.result.findings.length);
    expect([...history.newFingerprints].sort()).to.deep.equal(expectedNew.sort());
    expect(history.resolved.map((r) => r.fingerprint).sort()).to.deep.equal(expectedResolved.sort());
    expect(history.stillOpen).to.equal(now.size - expectedNew.length).and.to.be.greaterThan(0);
    const resolvedCron = history.resolved.find((r) => r.checkId === 'KS-WL-006')!;
    expect(resolvedCron.object).to.match(/^CronJob\/.+\/nightly-report$/);
    for (const framework of second.result.compliance!) {
      const before = first.result.compliance!.find((f) => f.id === framework.id)!.score.percent;
      const change = history.scoreChanges.find((c) => c.framework === framework.id)!;
      expect(change, framework.id).to.deep.include({ previous: before, current: framework.score.percent });
      expect(change.change).to.equal(before === null || framework.score.percent === null ? null : Math.round((framework.score.percent - before) * 10) / 10);
    }
    expect(history.scoreChanges.some((c) => c.change !== 0 && c.change !== null)).to.equal(true);
    expect(history.series.map((p) => p.findings)).to.deep.equal([first.result.findings.length, second.result.findings.length]);
  });

  it('says the same in the text summary', () => {
    const history = second.result.history!;
    expect(second.text).to.contain(`Since the previous scan (${first.result.scan.startedAt}): ${history.newFingerprints.length} new, ${history.resolved.length} resolved, ${history.stillOpen} still open; score `);
    const moved = history.scoreChanges.find((c) => c.change)!;
    expect(second.text).to.contain(`${moved.title}: ${moved.previous}% → ${moved.current}% (${moved.change! > 0 ? '+' : ''}${moved.change} pts)`);
    expect(second.text).to.match(/^ {2}resolved: KS-WL-006 .+ on CronJob\/.+\/nightly-report$/m);
  });

  it('shows the trend, the chart and the new findings in the HTML (Chromium)', async function () {
    requireTool(this, 'chromium');
    const history = second.result.history!;
    const opened = await openFile(path.join(second.dir, 'kscan-manifests.html'));
    const { page } = opened;
    try {
      expect(await page.textContent('#trend .trend-new .count')).to.equal(String(history.newFingerprints.length));
      expect(await page.textContent('#trend .trend-resolved .count')).to.equal(String(history.resolved.length));
      expect(await page.textContent('#trend .trend-open .count')).to.equal(String(history.stillOpen));
      expect(await page.locator('#trend svg.trend-chart circle').count()).to.equal(2);
      expect(await page.locator('#trend table tbody tr').first().textContent()).to.contain('%');
      expect(await page.locator('#findings-table .badge-new').count()).to.equal(Math.min(100, history.newFingerprints.length));
      await page.check('#filter-new');
      expect(await page.textContent('#findings-count')).to.equal(`${history.newFingerprints.length} of ${second.result.findings.length} findings match`);
      expect(opened.consoleErrors).to.deep.equal([]);
    } finally {
      await page.context().close();
    }
  });

  it('draws the trend chart in the PDF once there are two scans', async function () {
    requireTool(this, 'poppler');
    const text = async (result: ScanResult, name: string) => {
      const file = path.join(work, name);
      await writeFile(file, await renderPdf(result));
      return execFileSync('pdftotext', ['-raw', file, '-'], { encoding: 'utf8' });
    };
    const before = await text(first.result, 'first.pdf');
    const after = await text(second.result, 'second.pdf');
    expect(before).to.contain('First recorded scan of this target: the trend starts here.');
    expect(before).not.to.contain('Blue: all findings. Red, dashed: critical and high.');
    expect(after).to.contain('Blue: all findings. Red, dashed: critical and high.');
    expect(after.replace(/\s+/g, ' ')).to.contain(`${second.result.history!.newFingerprints.length} new, ${second.result.history!.resolved.length} resolved`);
  });

  it('kscan report --history shows the trend of a saved result without recording it again', async () => {
    const out = path.join(work, 'rerender.json');
    const run = await runKscan(['report', path.join(second.dir, 'kscan-manifests.json'), '--history', db, '--format', 'json', '--output', out]);
    expect(run.code, run.stderr).to.equal(0);
    const rerendered = JSON.parse(await readFile(out, 'utf8')) as ScanResult;
    expect(rerendered.history!.previous!.scannedAt).to.equal(first.result.scan.startedAt);
    expect(rerendered.history!.newFingerprints.sort()).to.deep.equal([...second.result.history!.newFingerprints].sort());
    expect(rerendered.history!.series).to.have.length(2);
    // A third scan sees two earlier ones: the rerender recorded nothing.
    const third = await scan('third');
    expect(third.result.history!.series).to.have.length(3);
    expect(third.result.history!.previous!.scannedAt).to.equal(second.result.scan.startedAt);
    expect(third.result.history!.newFingerprints).to.deep.equal([]);
    expect(third.result.history!.resolved).to.deep.equal([]);
  });

  it('"--history default" keeps the database in the user data directory', async () => {
    const data = path.join(work, 'xdg-data');
    const run = await runKscan(['manifests', manifests, '--history', 'default', '--format', 'json', '--output', path.join(work, 'default.json')], { env: { XDG_DATA_HOME: data } });
    expect(run.code, run.stderr).to.equal(0);
    expect(existsSync(path.join(data, 'kscan', 'history.sqlite'))).to.equal(true);
  });
});
