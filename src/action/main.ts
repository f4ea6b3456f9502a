// The GitHub Action: scan manifests (rendered Helm/kustomize output included) or a live cluster,
// write SARIF, Markdown and JSON, annotate the findings on their file and line, put the Markdown
// summary in the job summary, and fail the step when the gate fails. It runs the same scan as
// `kscan manifests` / `kscan cluster` (src/cli/run-scan.ts); `npm run action` bundles it into
// dist/action/bundle/index.js, which action.yml runs.
import { copyFile, mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { SEVERITIES, type Finding } from '../model/types.js';
import { collectFiles } from '../collect/files.js';
import { collectLive } from '../collect/live.js';
import { withConfig } from '../config/apply.js';
import { prepareReport, scanAndWrite, type ScanFlagValues } from '../cli/run-scan.js';
import { failingFindings, gatedFindings, reportStem } from '../cli/output.js';
import { renderMarkdown } from '../report/markdown.js';
import { objectLabel } from '../report/common.js';
import { InputFailure, errorMessage } from '../util/errors.js';

/** GitHub shows only the first annotations of a step; more would only slow the run. */
const MAX_ANNOTATIONS = 50;

function list(name: string): string[] {
  return core
    .getInput(name)
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** The kubeconfig input is a path, or the kubeconfig itself (from a secret). */
async function kubeconfigFile(value: string): Promise<string> {
  // A path is one line; a kubeconfig (YAML or JSON) is not.
  if (value.trim().includes('\n') || /^\s*\{|"?apiVersion"?\s*:/.test(value)) {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'kscan-action-')), 'kubeconfig');
    await writeFile(file, value, { mode: 0o600 });
    return file;
  }
  if (!(await stat(value).then((s) => s.isFile(), () => false))) throw new InputFailure(`input kubeconfig: file not found: ${value}`);
  return value;
}

function annotate(finding: Finding): void {
  const properties = { title: `${finding.checkId} ${finding.title}`, ...(finding.location ? { file: finding.location.file, startLine: finding.location.line, startColumn: finding.location.column } : {}) };
  const text = `${objectLabel(finding.object)}: ${finding.message}${finding.remediation ? `\n${finding.remediation}` : ''}`;
  if (finding.severity === 'critical' || finding.severity === 'high') core.error(text, properties);
  else if (finding.severity === 'medium') core.warning(text, properties);
  else core.notice(text, properties);
}

export async function run(): Promise<void> {
  const paths = list('paths');
  const kubeconfig = core.getInput('kubeconfig');
  if (!paths.length && !kubeconfig) throw new InputFailure('input paths: give the manifests to scan (files, directories, rendered Helm or kustomize output), or a kubeconfig');
  // Inputs win over .kscan.yaml, and the file over the defaults (as flags do for the CLI): so
  // action.yml gives fail-on and output-dir no default of its own.
  const given = (name: string) => core.getInput(name) || undefined;
  const inputs = {
    ...(list('formats').length ? { format: list('formats').join(',') } : {}),
    ...(given('output-dir') ? { 'output-dir': given('output-dir') } : {}),
    ...(list('frameworks').length ? { framework: list('frameworks') } : {}),
    ...(given('fail-on') ? { 'fail-on': given('fail-on') } : {}),
    'checks-dir': list('checks-dir'),
    ...(list('image-results').length ? { 'image-results': list('image-results') } : {}),
    ...(given('baseline') ? { baseline: given('baseline') } : {}),
    ...(given('config') ? { config: given('config') } : {}),
  } as Partial<ScanFlagValues> & { 'image-results'?: string[]; config?: string };
  const { flags: merged, config } = await withConfig(inputs, { flags: {} });
  const outputDir = merged['output-dir'] ?? 'kscan-reports';
  const failOn = merged['fail-on'] ?? 'high';
  if (![...SEVERITIES, 'none'].includes(failOn)) throw new InputFailure(`input fail-on: "${failOn}" is not one of ${[...SEVERITIES, 'none'].join(', ')}`);
  // json, md and sarif always: the outputs, the job summary and code scanning read them.
  const formats = [...new Set(['json', 'md', 'sarif', ...(merged.format?.split(',') ?? [])])];
  const flags: ScanFlagValues = { ...merged, format: formats.join(','), 'output-dir': outputDir, 'fail-on': failOn };
  const { imageScanExtension } = await import('../images/pipeline.js');
  const imageResults = merged['image-results'] ?? [];
  const extensions = imageResults.length ? [imageScanExtension({ results: imageResults, scan: false })] : [];
  const plan = await prepareReport(flags);
  const startedAt = new Date();

  const outcome = kubeconfig
    ? await (async () => {
        const collection = await collectLive({ kubeconfig: await kubeconfigFile(kubeconfig), context: core.getInput('context') || undefined });
        const name = collection.cluster?.name ?? 'cluster';
        return scanAndWrite(collection, { type: 'cluster', name, cluster: collection.cluster }, flags, { startedAt, extensions, config, plan });
      })()
    : await (async () => {
        const collection = await collectFiles(paths);
        if (collection.files === 0 && collection.coverage.errors.length === 0) throw new InputFailure(`input paths: no .yaml, .yml or .json files found in ${paths.join(', ')}`);
        return scanAndWrite(collection, { type: 'manifests', name: paths.join(' '), paths }, flags, { locator: collection.locator, startedAt, extensions, config, plan });
      })();
  const { result, written, code } = outcome;

  const sarif = path.join(outputDir, `${reportStem(result)}.sarif`);
  const sarifFile = core.getInput('sarif-file');
  if (sarifFile) {
    await mkdir(path.dirname(path.resolve(sarifFile)), { recursive: true });
    await copyFile(sarif, sarifFile);
  }
  const gated = gatedFindings(result);
  for (const severity of SEVERITIES) core.setOutput(severity, result.summary.bySeverity[severity]);
  core.setOutput('findings', result.summary.findings);
  core.setOutput('new-findings', gated.length);
  core.setOutput('scores', JSON.stringify(Object.fromEntries((result.compliance ?? []).map((f) => [f.id, f.score.percent]))));
  core.setOutput('sarif', sarifFile || sarif);
  core.setOutput('reports', JSON.stringify(written));
  core.setOutput('exit-code', code);

  if (core.getInput('annotations') !== 'false') {
    // The worst first, and those a reviewer can click through to (with a file) before the rest.
    const rank = (f: Finding) => SEVERITIES.indexOf(f.severity) * 2 + (f.location ? 0 : 1);
    for (const finding of [...gated].sort((a, b) => rank(a) - rank(b)).slice(0, MAX_ANNOTATIONS)) annotate(finding);
  }
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderMarkdown(result)).write();

  if (code === 2) core.setFailed('kscan: the scan could not read its input or load its checks (see the problems above)');
  else if (code === 1) core.setFailed(`kscan: ${failingFindings(result, failOn).length} ${result.baseline ? 'new ' : ''}finding(s) at or above ${failOn}`);
}

run().catch((error: unknown) => {
  core.setOutput('exit-code', 2);
  core.setFailed(error instanceof InputFailure ? `kscan: ${error.message}` : `kscan: ${errorMessage(error)}`);
});
