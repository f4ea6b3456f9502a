// The compliance block of the terminal summary: one line per framework with its score and the
// number of failed controls; the JSON result holds every control.
import type { ComplianceScore, FrameworkResult } from '../scan/result.js';

export function formatPercent(score: ComplianceScore): string {
  return score.percent === null ? 'n/a' : `${score.percent}%`;
}

export function renderComplianceText(compliance: FrameworkResult[] | undefined, paint: (code: string, text: string) => string): string[] {
  if (!compliance?.length) return [];
  const out = [paint('1', 'Compliance (score = passed / (passed + failed) controls):')];
  const width = Math.max(...compliance.map((f) => f.id.length));
  for (const framework of compliance) {
    const s = framework.score;
    const color = s.failed ? '31' : '32';
    const others = [`${s.manual} manual`, `${s.notEvaluated} not evaluated`, `${s.notApplicable} not applicable`, ...(s.provider ? [`${s.provider} provider`] : [])].join(', ');
    out.push(`  ${framework.id.padEnd(width)}  ${paint(color, formatPercent(s).padStart(6))}  ${s.failed} failed, ${s.passed} passed of ${framework.controls.length} controls; ${others}`);
  }
  out.push('');
  return out;
}
