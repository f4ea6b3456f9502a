// CEL, the expression language of Kubernetes ValidatingAdmissionPolicy, via @marcbachmann/cel-js:
// it handled every macro we tried (all, exists, has, endsWith, matches) and evaluated 5-13x
// faster than @bufbuild/cel (bench/cel-candidates.mjs). Expressions compile once, at load.
import { Environment } from '@marcbachmann/cel-js';
import { ipInCidrs } from '../util/cidr.js';
import { DEFER, compileFast } from './cel-fast.js';

/**
 * The variables a check sees (namespaceObject as in ValidatingAdmissionPolicy; `namespace` is reserved
 * in CEL). `inventory` maps each kind to the list of its objects, for cross-object checks such as
 * "namespace without a NetworkPolicy". Audit rules see `event` (the audit event) and `params` (the rule's parameters).
 */
export const CEL_VARIABLES = ['object', 'podSpec', 'podMeta', 'item', 'namespaceObject', 'inventory', 'event', 'params'] as const;

export type CelContext = Partial<Record<(typeof CEL_VARIABLES)[number], unknown>>;
export type CompiledExpression = (context: CelContext) => unknown;

const environment = new Environment({
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 2000, maxDepth: 64, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 },
});
for (const name of CEL_VARIABLES) environment.registerVariable(name, 'dyn');
// ipInCidrs("10.244.1.7", ["10.244.0.0/16"]): IPv4 and IPv6, for source-address rules.
environment.registerFunction('ipInCidrs(string, list): bool', (ip: string, cidrs: unknown[]) => ipInCidrs(ip, cidrs));

// A regular expression whose quantified group itself repeats, like (a+)+ or (a|aa)*, can backtrack
// for ever on JavaScript's engine: such patterns are rejected at load.
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/;

/** A repeated group of alternatives where one alternative is a prefix of another, like (a|aa)+ or (x|x)*. */
const REPEATED_GROUP = /\(((?:[^()\\]|\\.)*)\)(?:[+*]|\{\d+,\d*\})/g;

function overlappingAlternatives(pattern: string): boolean {
  for (const group of pattern.matchAll(REPEATED_GROUP)) {
    const alternatives = group[1].replace(/^\?:/, '').split('|');
    if (alternatives.length < 2) continue;
    if (alternatives.some((a, i) => alternatives.some((b, j) => i !== j && b.startsWith(a)))) return true;
  }
  return false;
}

function rejectUnsafeRegexes(source: string): void {
  const literal = /^\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)/;
  for (const call of source.matchAll(/\bmatches\(/g)) {
    const match = literal.exec(source.slice(call.index + call[0].length));
    // A pattern computed at run time (from the object, params) could not be vetted here.
    if (!match) throw new Error('matches() takes a string literal pattern, so that it can be checked for catastrophic backtracking at load');
    const pattern = match[1] ?? match[2] ?? '';
    if (NESTED_QUANTIFIER.test(pattern)) throw new Error(`regular expression "${pattern}" has a nested quantifier that can backtrack catastrophically`);
    if (overlappingAlternatives(pattern)) throw new Error(`regular expression "${pattern}" repeats a group whose alternatives overlap, which can backtrack catastrophically`);
  }
}

let fastPath = true;

/** For tests that compare the fast path with cel-js: expressions compiled afterwards use cel-js only. */
export function useFastPath(enabled: boolean): void {
  fastPath = enabled;
}

export function compileExpression(source: string): CompiledExpression {
  rejectUnsafeRegexes(source);
  const parsed = environment.parse(source);
  const checked = parsed.check();
  if (!checked.valid) throw checked.error ?? new Error('invalid expression');
  const slow = parsed as CompiledExpression;
  const fast = fastPath ? compileFast(parsed.ast) : undefined;
  if (!fast) return slow;
  return (context) => {
    try {
      return fast(context as Record<string, unknown>);
    } catch (error) {
      if (error === DEFER) return slow(context);
      throw error;
    }
  };
}
