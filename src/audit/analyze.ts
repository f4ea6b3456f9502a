// The audit pipeline in one call: read (streaming) → analyse → report, and its scan extension.
import { readFile } from 'node:fs/promises';
import yaml from 'js-yaml';
import type { Readable } from 'node:stream';
import type { Finding, InputError, K8sObject } from '../model/types.js';
import type { Check } from '../checks/loader.js';
import type { ScanExtension } from '../scan/scan.js';
import { InputFailure, errorMessage } from '../util/errors.js';
import { AuditAnalyzer } from './analyzer.js';
import { NoveltyDetector, readBaseline } from './baseline.js';
import { readAuditLogs } from './reader.js';
import { compileAuditRules, isAuditRule } from './rules.js';
import type { AuditReport } from './summary.js';
import { auditSection } from './section.js';

export interface AuditOptions {
  /** Checks loaded for the scan; the audit rules among them are used. */
  checks: Check[];
  /** Rule id → parameters overriding the rule's own. */
  ruleParams?: Record<string, Record<string, unknown>>;
  /** Baseline profile file (kscan audit baseline --learn). */
  baseline?: string;
  stdin?: Readable;
  maxProblems?: number;
}

export interface AuditOutcome {
  report: AuditReport;
  findings: Finding[];
  /** Rule evaluation errors. */
  errors: InputError[];
}

export async function analyzeAuditLogs(inputs: string[], options: AuditOptions): Promise<AuditOutcome> {
  const rules = compileAuditRules(options.checks, options.ruleParams);
  const baseline = options.baseline ? { file: options.baseline, detector: new NoveltyDetector(await readBaseline(options.baseline)) } : undefined;
  const analyzer = new AuditAnalyzer({ rules, baseline });
  const stats = await readAuditLogs(inputs, (event) => analyzer.add(event), { stdin: options.stdin, maxProblems: options.maxProblems });
  return { report: analyzer.report(stats), findings: analyzer.findings(), errors: analyzer.errors };
}

/** --rule-params: YAML or JSON mapping rule ids to parameter maps. */
export async function readRuleParams(file: string | undefined): Promise<Record<string, Record<string, unknown>>> {
  if (!file) return {};
  let value: unknown;
  try {
    value = yaml.load(await readFile(file, 'utf8'), { filename: file });
  } catch (error) {
    throw new InputFailure(`${file}: cannot read rule parameters (${errorMessage(error).split('\n')[0]})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => !v || typeof v !== 'object' || Array.isArray(v))) {
    throw new InputFailure(`${file}: rule parameters must map rule ids to maps, e.g. "KS-AUD-002: { allowedUsers: [...] }"`);
  }
  return value as Record<string, Record<string, unknown>>;
}

/**
 * The audit part of a scan: analyses the logs, adds the findings, the typed `audit` result and a
 * generic report section. Unknown rule ids in the parameters are reported, not ignored.
 */
export function auditExtension(inputs: string[], options: Omit<AuditOptions, 'checks'> = {}): ScanExtension {
  return {
    name: 'audit',
    async run(context) {
      const checks = context.checks.filter(isAuditRule);
      for (const id of Object.keys(options.ruleParams ?? {})) {
        if (!checks.some((check) => check.id === id)) context.result.errors.push({ source: 'rule parameters', message: `no audit rule ${id}; its parameters were not used`, stage: 'load' });
      }
      const ruleParams = withClusterNetworks(checks, context.inventory.ofKind('Node').map((item) => item.object), options.ruleParams ?? {});
      const outcome = await analyzeAuditLogs(inputs, { ...options, ruleParams, checks });
      context.findings.push(...outcome.findings);
      context.result.errors.push(...outcome.errors);
      context.result.coverage.errors.push(...outcome.report.problems);
      for (const rule of outcome.report.rules) context.evaluation.evaluated.set(rule.id, rule.candidates);
      context.result.audit = outcome.report;
      (context.result.sections ??= []).push(auditSection(outcome.report));
    },
  };
}

/**
 * With the cluster's Nodes at hand, rules with podCIDRs / nodeAddresses parameters get the real pod
 * ranges and node addresses instead of the defaults; parameters given by the user still win.
 */
export function withClusterNetworks(checks: Check[], nodes: K8sObject[], overrides: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  const podCIDRs = new Set<string>();
  const addresses = new Set<string>();
  for (const node of nodes) {
    const spec = (node.spec ?? {}) as { podCIDR?: string; podCIDRs?: string[] };
    for (const cidr of [...(spec.podCIDRs ?? []), ...(spec.podCIDR ? [spec.podCIDR] : [])]) podCIDRs.add(cidr);
    const status = (node.status ?? {}) as { addresses?: { type?: string; address?: string }[] };
    for (const address of status.addresses ?? []) if ((address.type === 'InternalIP' || address.type === 'ExternalIP') && address.address) addresses.add(address.address);
  }
  if (!podCIDRs.size && !addresses.size) return overrides;
  const out = { ...overrides };
  for (const check of checks) {
    const derived: Record<string, unknown> = {};
    if (podCIDRs.size && Array.isArray(check.params?.podCIDRs)) derived.podCIDRs = [...podCIDRs];
    if (addresses.size && Array.isArray(check.params?.nodeAddresses)) derived.nodeAddresses = [...addresses];
    if (Object.keys(derived).length) out[check.id] = { ...derived, ...(overrides[check.id] ?? {}) };
  }
  return out;
}
