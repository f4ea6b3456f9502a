// `kscan checks test` for audit rules: fixtures are JSON lines of audit events beside the rule.
// <id>.pass.jsonl must produce no finding. In <id>.fail.jsonl every event must produce one (events
// annotated kscan.io/test-expect: none are context), and a threshold rule must fire at least once.
import { createReadStream } from 'node:fs';
import type { Check } from '../checks/loader.js';
import type { FixtureOutcome } from '../checks/fixtures.js';
import { AuditAnalyzer } from './analyzer.js';
import type { AuditEvent } from './event.js';
import { LineParser, newStats } from './reader.js';
import { compileAuditRules } from './rules.js';

const EXPECT_ANNOTATION = 'kscan.io/test-expect';

export async function runAuditFixture(check: Check, kind: 'pass' | 'fail', file: string): Promise<FixtureOutcome> {
  const problems: string[] = [];
  const events: AuditEvent[] = [];
  const stats = newStats();
  await new LineParser(stats, (event) => events.push(event), 20).readStream(file, createReadStream(file));
  for (const problem of stats.problems) problems.push(`${problem.line ? `line ${problem.line}: ` : ''}${problem.message}`);
  const [rule] = compileAuditRules([check]);
  const run = (batch: AuditEvent[]) => {
    const analyzer = new AuditAnalyzer({ rules: [rule] });
    for (const event of batch) analyzer.add(event);
    for (const error of analyzer.errors) problems.push(`${error.source}: ${error.message}`);
    return { findings: analyzer.findings(), candidates: analyzer.report(stats).rules[0].candidates };
  };
  const whole = run(events);
  if (whole.candidates === 0) problems.push('fixture holds no event the rule applies to, so it proves nothing');
  const label = (event: AuditEvent, i: number) => `event ${i + 1} (${event.auditID ?? 'no auditID'})`;
  if (kind === 'pass') {
    for (const finding of whole.findings) problems.push(`expected no finding, got: ${finding.message} (${finding.evidence?.auditID ?? ''})`);
  } else if (check.threshold) {
    if (!whole.findings.length) problems.push(`expected the threshold (${check.threshold.count} within ${check.threshold.window}) to fire, it did not`);
  } else {
    events.forEach((event, i) => {
      if (event.annotations?.[EXPECT_ANNOTATION] === 'none') return;
      if (!run([event]).findings.length) problems.push(`${label(event, i)}: expected a finding, got none`);
    });
  }
  return { checkId: check.id, fixture: kind, file, ok: problems.length === 0, problems };
}
