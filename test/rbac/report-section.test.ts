// The RBAC section of the HTML (rendered in real Chromium) and PDF (read back with poppler) reports
// of a demo scan: subjects ranked by power, with the path to each risky permission.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ScanResult } from '../../src/scan/result.js';
import { openFile } from '../support/browser.js';
import { runKscan } from '../support/cli.js';
import { DEMO } from './fixtures.js';

describe('RBAC section in the HTML and PDF reports', function () {
  this.timeout(120_000);
  let dir: string;
  let result: ScanResult;
  const file = async (ext: string) => path.join(dir, (await readdir(dir)).find((f) => f.endsWith(ext))!);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kscan-rbac-report-'));
    const run = await runKscan(['cluster', '--snapshot', DEMO, '--format', 'json,html,pdf', '--output-dir', dir]);
    expect(run.code, run.stderr).to.equal(0);
    result = JSON.parse(await readFile(await file('.json'), 'utf8')) as ScanResult;
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('shows subjects ranked by power and the binding → role → rule path to each risky permission (HTML)', async () => {
    const { page, consoleErrors, requests } = await openFile(await file('.html'));
    try {
      const section = page.locator('#section-rbac');
      expect(await section.locator('h2').textContent()).to.equal('RBAC: effective permissions');
      const ranked = section.locator('table', { has: page.locator('th', { hasText: 'power' }) });
      const firstRow = await ranked.locator('tbody tr').first().locator('td').allTextContents();
      expect(firstRow[0]).to.equal(result.rbac!.subjects[0]!.id);
      expect(Number(firstRow[1])).to.equal(result.rbac!.subjects[0]!.power);
      const paths = await section.locator('table', { has: page.locator('th', { hasText: 'granted by' }) }).locator('tbody tr td:nth-child(4)').allTextContents();
      expect(paths.length).to.be.greaterThan(5);
      for (const text of paths) expect(text).to.match(/(RoleBinding|ClusterRoleBinding) .+ → (Role|ClusterRole) .+ → .+/);
      expect(await page.locator('nav.toc a[href="#section-rbac"]').count()).to.equal(1);
      expect(consoleErrors).to.deep.equal([]);
      expect(requests.filter((url) => !url.startsWith('file://'))).to.deep.equal([]);
    } finally {
      await page.context().close();
    }
  });

  it('has the same section in the PDF', async () => {
    const { stdout } = await promisify(execFile)('pdftotext', ['-layout', await file('.pdf'), '-']);
    expect(stdout).to.include('RBAC: effective permissions');
    expect(stdout).to.include('Subjects ranked by power');
    expect(stdout).to.include(result.rbac!.subjects[0]!.id);
  });
});
