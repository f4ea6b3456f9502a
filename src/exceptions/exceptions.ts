// Exceptions as code: accepted risks that suppress findings, each with a reason, an owner and an
// expiry date, from the config file, from kscan's packs for well-known system components
// (checks/exceptions/), or from an object's own `kscan.io/ignore` annotation. A suppressed finding
// leaves every output but the exceptions section, which says what each exception suppressed;
// expired exceptions stop applying and unused ones are named, so exceptions cannot rot unseen.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding, InputError, K8sObject, Severity } from '../model/types.js';
import type { ReportSection } from '../scan/result.js';
import type { ScanExtension } from '../scan/scan.js';
import { parseConfig, type ExceptionRule } from '../config/config.js';
import { objectLabel } from '../report/common.js';
import { globMatch, globMatcher } from '../util/glob.js';

export const EXCEPTION_PACKS_DIR = fileURLToPath(new URL('../../../checks/exceptions', import.meta.url));
export const IGNORE_ANNOTATION = 'kscan.io/ignore';
/** Findings listed per exception in the result; the count is always complete. */
const LISTED_PER_EXCEPTION = 100;

export type ExceptionStatus = 'active' | 'expired' | 'unused';

export interface ExceptionOutcome {
  name?: string;
  source: string;
  /** The pack it comes from, for kscan's default exceptions. */
  pack?: string;
  checks: string[];
  reason: string;
  owner?: string;
  expires?: string;
  status: ExceptionStatus;
  suppressed: number;
  findings: { fingerprint: string; checkId: string; severity: Severity; object: string }[];
}

export interface ExceptionsReport {
  suppressed: number;
  exceptions: ExceptionOutcome[];
  /** Suppressions by the objects' own kscan.io/ignore annotations. */
  annotations: { object: string; checks: string[]; reason: string; suppressed: number }[];
}

/** Every pack in checks/exceptions/: exception lists for well-known system components. */
export async function loadExceptionPacks(dir = EXCEPTION_PACKS_DIR): Promise<ExceptionRule[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).sort();
  const rules: ExceptionRule[] = [];
  for (const file of files) {
    const display = path.join('checks', 'exceptions', file);
    const { config } = parseConfig(await readFile(path.join(dir, file), 'utf8'), display, dir);
    rules.push(...(config.exceptions ?? []).map((rule) => ({ ...rule, pack: path.basename(file).replace(/\.ya?ml$/, '') })));
  }
  return rules;
}


interface CompiledRule {
  rule: ExceptionRule & { pack?: string };
  outcome: ExceptionOutcome;
  matches(finding: Finding, labels: Record<string, string>): boolean;
}

function compile(rule: ExceptionRule & { pack?: string }, today: string): CompiledRule {
  const checks = globMatcher(rule.checks)!;
  const namespaces = globMatcher(rule.namespaces);
  const names = globMatcher(rule.names);
  const kinds = rule.kinds?.length ? new Set(rule.kinds) : undefined;
  const labels = Object.entries(rule.labels ?? {});
  const expired = rule.expires !== undefined && rule.expires <= today;
  const outcome: ExceptionOutcome = {
    ...(rule.name ? { name: rule.name } : {}),
    source: rule.source,
    ...(rule.pack ? { pack: rule.pack } : {}),
    checks: rule.checks,
    reason: rule.reason,
    ...(rule.owner ? { owner: rule.owner } : {}),
    ...(rule.expires ? { expires: rule.expires } : {}),
    status: expired ? 'expired' : 'unused',
    suppressed: 0,
    findings: [],
  };
  return {
    rule,
    outcome,
    matches: (finding, objectLabels) =>
      !expired &&
      checks(finding.checkId) &&
      (!kinds || kinds.has(finding.object.kind)) &&
      (!namespaces || namespaces(finding.object.namespace ?? '')) &&
      (!names || names(finding.object.name)) &&
      labels.every(([key, value]) => objectLabels[key] === value),
  };
}

/** `kscan.io/ignore: "KS-WL-001: reason; KS-WL-006: reason"` (also one per line). */
export function parseIgnoreAnnotation(value: string): { entries: { check: string; reason: string }[]; problems: string[] } {
  const entries: { check: string; reason: string }[] = [];
  const problems: string[] = [];
  for (const part of value.split(/[;\n]/).map((p) => p.trim()).filter(Boolean)) {
    const match = /^([A-Za-z][\w.*-]*)\s*:\s*(\S.*)$/.exec(part);
    if (match) entries.push({ check: match[1], reason: match[2].trim() });
    else problems.push(`"${part.slice(0, 80)}" is not "<check-id>: reason"`);
  }
  return { entries, problems };
}

export interface ExceptionOptions {
  rules: ExceptionRule[];
  /** kscan's default packs; empty when turned off. */
  packs: ExceptionRule[];
  now?: Date;
}

/**
 * Runs after the other extensions' findings are in and before compliance scoring, so a suppressed
 * finding fails no control.
 */
export function exceptionsExtension(options: ExceptionOptions): ScanExtension {
  return {
    name: 'exceptions',
    run({ findings, inventory, result }) {
      const today = (options.now ?? new Date()).toISOString().slice(0, 10);
      const compiled = [...options.rules, ...options.packs].map((rule) => compile(rule, today));
      const annotations = new Map<string, ExceptionsReport['annotations'][number]>();
      const problems: InputError[] = [];
      // Each object's kscan.io/ignore annotation, parsed once (its problems reported once).
      const ignoreCache = new Map<K8sObject, { check: string; reason: string }[]>();
      const ignoreEntriesOf = (object: K8sObject | undefined, label: string) => {
        if (!object) return [];
        let entries = ignoreCache.get(object);
        if (!entries) {
          const value = object.metadata?.annotations?.[IGNORE_ANNOTATION];
          const parsed = typeof value === 'string' ? parseIgnoreAnnotation(value) : { entries: [], problems: [] };
          for (const problem of parsed.problems) problems.push({ source: label, message: `annotation ${IGNORE_ANNOTATION}: ${problem}`, stage: 'config' });
          ignoreCache.set(object, (entries = parsed.entries));
        }
        return entries;
      };
      const objectOf = (finding: Finding): K8sObject | undefined => inventory.get(finding.object.kind, finding.object.namespace, finding.object.name)?.object;
      const kept: Finding[] = [];
      for (const finding of findings) {
        const object = objectOf(finding);
        const label = objectLabel(finding.object);
        const ignores = ignoreEntriesOf(object, label);
        const byAnnotation = ignores.find((entry) => globMatch(entry.check, finding.checkId));
        if (byAnnotation) {
          const key = `${label}\u0000${byAnnotation.reason}`;
          const entry = annotations.get(key) ?? { object: label, checks: ignores.map((e) => e.check), reason: byAnnotation.reason, suppressed: 0 };
          entry.suppressed++;
          annotations.set(key, entry);
          continue;
        }
        const rule = compiled.find((candidate) => candidate.matches(finding, object?.metadata?.labels ?? {}));
        if (!rule) {
          kept.push(finding);
          continue;
        }
        rule.outcome.status = 'active';
        rule.outcome.suppressed++;
        if (rule.outcome.findings.length < LISTED_PER_EXCEPTION) rule.outcome.findings.push({ fingerprint: finding.fingerprint, checkId: finding.checkId, severity: finding.severity, object: label });
      }
      findings.splice(0, findings.length, ...kept);
      // Packs that suppressed nothing are not news; the user's own exceptions always are.
      const outcomes = compiled.filter((c) => !c.rule.pack || c.outcome.suppressed > 0).map((c) => c.outcome);
      const report: ExceptionsReport = { suppressed: outcomes.reduce((n, o) => n + o.suppressed, 0) + [...annotations.values()].reduce((n, a) => n + a.suppressed, 0), exceptions: outcomes, annotations: [...annotations.values()] };
      if (!report.exceptions.length && !report.annotations.length) return;
      result.exceptions = report;
      result.errors.push(...problems);
      for (const outcome of outcomes.filter((o) => o.status !== 'active')) {
        result.errors.push({ source: outcome.source, message: outcome.status === 'expired' ? `exception ${outcome.name ?? outcome.checks.join(',')} expired on ${outcome.expires} and no longer applies` : `exception ${outcome.name ?? outcome.checks.join(',')} matches no finding: remove it or fix its selector`, stage: 'config' });
      }
      (result.sections ??= []).push(exceptionsSection(report));
    },
  };
}

function exceptionsSection(report: ExceptionsReport): ReportSection {
  const counts = (status: ExceptionStatus) => report.exceptions.filter((e) => e.status === status).length;
  return {
    id: 'exceptions',
    title: 'Exceptions',
    summary: `${report.suppressed} finding${report.suppressed === 1 ? '' : 's'} suppressed by accepted exceptions; expired exceptions no longer apply.`,
    figures: [
      { label: 'suppressed', value: report.suppressed },
      { label: 'active', value: counts('active') },
      { label: 'expired', value: counts('expired') },
      { label: 'unused', value: counts('unused') },
      { label: 'by annotation', value: report.annotations.reduce((n, a) => n + a.suppressed, 0) },
    ],
    tables: [
      {
        title: 'Exceptions',
        columns: ['exception', 'checks', 'status', 'suppressed', 'owner', 'expires', 'reason'],
        rows: report.exceptions.map((e) => [e.name ?? (e.pack ? `pack ${e.pack}` : e.source), e.checks.join(', '), e.status, e.suppressed, e.owner ?? '-', e.expires ?? '-', e.reason]),
      },
      {
        title: `Suppressed by the ${IGNORE_ANNOTATION} annotation`,
        columns: ['object', 'checks', 'suppressed', 'reason'],
        rows: report.annotations.map((a) => [a.object, a.checks.join(', '), a.suppressed, a.reason]),
      },
    ],
  };
}
