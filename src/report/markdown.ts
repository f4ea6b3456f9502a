// A short Markdown summary for a pull request comment or a GitHub job summary: counts, scores,
// the trend, the worst findings in a link-free table, and what was not collected. Every name and
// message from the cluster or the files is escaped (markdownEscape), so none can form a link,
// an image, HTML or break the table.
import { SEVERITIES } from '../model/types.js';
import type { ScanResult } from '../scan/result.js';
import { findingWhere, formatPercent, inputProblems, notCollected, objectLabel, targetLabel, trendSentence, baselineSentence } from './common.js';
import { markdownEscape as md } from './sanitize.js';

export interface MarkdownOptions {
  /** Rows in the worst-findings table. */
  maxFindings?: number;
}

const SEVERITY_MARK: Record<string, string> = { critical: '🟥', high: '🟧', medium: '🟨', low: '🟦', info: '⬜' };

export function renderMarkdown(result: ScanResult, options: MarkdownOptions = {}): string {
  const limit = options.maxFindings ?? 15;
  const out: string[] = [];
  out.push(`## kscan: ${md(targetLabel(result))}`, '');
  const frameworks = result.scan.frameworks.length ? ` · frameworks: ${md(result.scan.frameworks.join(', '))}` : '';
  out.push(`${result.summary.findings} findings on ${result.summary.objects} objects, ${result.summary.checks} checks${frameworks} · kscan ${md(result.kscanVersion)} · ${md(result.scan.startedAt)}`, '');

  out.push('| ' + SEVERITIES.map((s) => `${SEVERITY_MARK[s]} ${s}`).join(' | ') + ' |');
  out.push('| ' + SEVERITIES.map(() => '---:').join(' | ') + ' |');
  out.push('| ' + SEVERITIES.map((s) => String(result.summary.bySeverity[s] ?? 0)).join(' | ') + ' |', '');

  if (result.compliance?.length) {
    out.push('| Framework | Score | Pass | Fail | Manual |', '| --- | ---: | ---: | ---: | ---: |');
    for (const framework of result.compliance) {
      const { score } = framework;
      out.push(`| ${md(framework.title)} | ${score.percent === null ? 'n/a' : `${formatPercent(score.percent)}%`} | ${score.passed} | ${score.failed} | ${score.manual} |`);
    }
    out.push('');
  }

  const trend = trendSentence(result);
  if (trend) out.push(`**Trend:** ${md(trend)}`, '');
  const baseline = baselineSentence(result);
  if (baseline) out.push(`**Baseline:** ${md(baseline)}`, '');

  if (result.findings.length) {
    const shown = result.findings.slice(0, limit);
    out.push(`### Worst findings${result.findings.length > limit ? ` (${limit} of ${result.findings.length})` : ''}`, '');
    out.push('| Severity | Check | Object | Finding | Where |', '| --- | --- | --- | --- | --- |');
    for (const finding of shown) {
      out.push(`| ${finding.severity} | ${md(finding.checkId)} ${md(finding.title)} | ${md(objectLabel(finding.object))} | ${md(finding.message)} | ${md(findingWhere(finding))} |`);
    }
    out.push('');
  } else {
    out.push('No findings.', '');
  }

  const missing = notCollected(result);
  if (missing.length) {
    out.push(`> **Not collected** (findings on these may be missing): ${missing.map((k) => `${md(k.kind)} (${md(k.status)})`).join(', ')}`, '');
  }
  const problems = inputProblems(result);
  if (problems.length) {
    out.push(`> **Input problems** (${problems.length}): ${problems.slice(0, 5).map(md).join('; ')}${problems.length > 5 ? ` … and ${problems.length - 5} more` : ''}`, '');
  }
  return out.join('\n');
}
