// The watch configuration file (YAML or JSON), validated against schemas/watch-config.schema.json.
// Secrets (webhook signing keys, Slack URLs) are named by environment variable or file and read
// here; their values live only in the resolved sink objects, which are never logged.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { Ajv } from 'ajv';
import type { Finding, Severity } from '../model/types.js';
import { SEVERITY_RANK } from '../model/types.js';
import { checkInFrameworks, frameworkIds } from '../checks/frameworks.js';
import { InputFailure, errorMessage } from '../util/errors.js';
import { describeSchemaError } from '../util/schema-errors.js';
import type { SignalOptions } from '../events/signals.js';

const SCHEMA_PATH = fileURLToPath(new URL('../../../schemas/watch-config.schema.json', import.meta.url));

type Duration = number | string;
interface SecretRef { env?: string; file?: string }

export interface FilterConfig {
  minSeverity?: Severity;
  severities?: Severity[];
  namespaces?: string[];
  excludeNamespaces?: string[];
  checks?: string[];
  frameworks?: string[];
  events?: ('opened' | 'resolved')[];
}

interface RawConfig {
  debounce?: Duration;
  state?: string;
  listen?: string;
  checksDirs?: string[];
  frameworks?: string[];
  drainTimeout?: Duration;
  delivery?: { timeout?: Duration; retryBase?: Duration; retryMax?: Duration; maxBatch?: number; maxAge?: Duration };
  sinks: { name: string; type: 'webhook' | 'slack' | 'stdout'; url?: string | SecretRef; secret?: SecretRef; headers?: Record<string, string>; route?: FilterConfig; group?: Duration }[];
  thresholds?: { name: string; match?: FilterConfig; count: number; window: Duration; groupBy?: ThresholdPolicy['groupBy'] }[];
  events?: { warnings?: boolean } & SignalOptions;
}

export interface SinkConfig {
  name: string;
  type: 'webhook' | 'slack' | 'stdout';
  url?: string;
  /** HMAC key (webhook); never logged. */
  secret?: string;
  headers: Record<string, string>;
  route: FilterConfig;
  groupMs: number;
}

export interface ThresholdPolicy {
  name: string;
  match: FilterConfig;
  count: number;
  windowMs: number;
  window: string;
  groupBy: ('check' | 'namespace' | 'kind' | 'fingerprint')[];
}

export interface WatchConfig {
  debounceMs: number;
  state?: string;
  listen?: string;
  checksDirs: string[];
  frameworks: string[];
  drainTimeoutMs: number;
  delivery: { timeoutMs: number; retryBaseMs: number; retryMaxMs: number; maxBatch: number; maxAgeMs: number };
  sinks: SinkConfig[];
  thresholds: ThresholdPolicy[];
  /** Warning Events as findings (src/events/signals.ts); absent when not enabled. */
  events?: SignalOptions;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function durationMs(value: Duration | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)(ms|s|m|h)$/.exec(value.trim());
  if (!m) throw new InputFailure(`invalid duration "${value}" (use e.g. 500ms, 2s, 5m, 1h)`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

let validator: ReturnType<Ajv['compile']> | undefined;

export function parseWatchConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): WatchConfig {
  let raw: unknown;
  try {
    raw = yaml.load(text, { filename: file });
  } catch (error) {
    throw new InputFailure(`${file}: ${errorMessage(error).split('\n')[0]}`);
  }
  // A .kscan.yaml (schemas/config.schema.json) carries these settings in its `watch:` section, and
  // its checksDirs and frameworks apply unless the section sets its own.
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && 'watch' in raw) {
    const { watch, checksDirs, frameworks } = raw as { watch: unknown; checksDirs?: unknown; frameworks?: unknown };
    raw = { ...(checksDirs ? { checksDirs } : {}), ...(frameworks ? { frameworks } : {}), ...(watch as object) };
  }
  validator ??= new Ajv({ allErrors: false, strict: false, validateSchema: false }).compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object);
  if (!validator(raw)) {
    const first = validator.errors?.[0];
    throw new InputFailure(`${file}: ${first ? describeSchemaError(first, 'config') : 'invalid'}`);
  }
  const config = raw as RawConfig;
  const known = new Set(frameworkIds());
  const checkFrameworks = (where: string, list: string[] | undefined) => {
    for (const id of list ?? []) if (!known.has(id)) throw new InputFailure(`${file}: ${where}: unknown framework "${id}" (known: ${[...known].join(', ')})`);
  };
  checkFrameworks('frameworks', config.frameworks);
  const names = new Set<string>();
  const sinks = config.sinks.map((sink, i): SinkConfig => {
    const where = `sinks[${i}] (${sink.name})`;
    if (names.has(sink.name)) throw new InputFailure(`${file}: ${where}: duplicate sink name`);
    names.add(sink.name);
    checkFrameworks(`${where}.route.frameworks`, sink.route?.frameworks);
    const url = typeof sink.url === 'object' ? readSecret(sink.url, `${where}.url`, file, env) : sink.url;
    if (url !== undefined && !/^https?:\/\//.test(url)) throw new InputFailure(`${file}: ${where}.url: not an http(s) URL`);
    return {
      name: sink.name,
      type: sink.type,
      ...(url ? { url } : {}),
      ...(sink.secret ? { secret: readSecret(sink.secret, `${where}.secret`, file, env) } : {}),
      headers: sink.headers ?? {},
      route: sink.route ?? {},
      groupMs: durationMs(sink.group, 0),
    };
  });
  const thresholds = (config.thresholds ?? []).map((t, i) => {
    checkFrameworks(`thresholds[${i}].match.frameworks`, t.match?.frameworks);
    return { name: t.name, match: t.match ?? {}, count: t.count, windowMs: durationMs(t.window, 0), window: String(t.window), groupBy: t.groupBy ?? ['check', 'namespace'] };
  });
  return {
    debounceMs: durationMs(config.debounce, 1000),
    ...(config.state ? { state: config.state } : {}),
    ...(config.listen ? { listen: config.listen } : {}),
    checksDirs: config.checksDirs ?? [],
    frameworks: config.frameworks ?? [],
    drainTimeoutMs: durationMs(config.drainTimeout, 10_000),
    delivery: {
      timeoutMs: durationMs(config.delivery?.timeout, 10_000),
      retryBaseMs: durationMs(config.delivery?.retryBase, 1000),
      retryMaxMs: durationMs(config.delivery?.retryMax, 300_000),
      maxBatch: config.delivery?.maxBatch ?? 100,
      maxAgeMs: durationMs(config.delivery?.maxAge, 86_400_000),
    },
    sinks,
    thresholds,
    ...(config.events?.warnings ? { events: signalOptions(config.events) } : {}),
  };
}

export function loadWatchConfig(file: string, env: NodeJS.ProcessEnv = process.env): WatchConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputFailure(`cannot read the watch config ${file}: ${errorMessage(error)}`);
  }
  return parseWatchConfig(text, file, env);
}

/** The `events:` section without its on switch. */
function signalOptions({ warnings: _on, ...options }: NonNullable<RawConfig['events']>): SignalOptions {
  return options;
}

/** Reads a secret; errors name the variable or file, never a value. */
function readSecret(ref: SecretRef, where: string, file: string, env: NodeJS.ProcessEnv): string {
  if (ref.env) {
    const value = env[ref.env];
    if (!value) throw new InputFailure(`${file}: ${where}: environment variable ${ref.env} is not set`);
    return value.trim();
  }
  let value: string;
  try {
    value = readFileSync(ref.file!, 'utf8').trim();
  } catch (error) {
    throw new InputFailure(`${file}: ${where}: cannot read ${ref.file}: ${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}`);
  }
  if (!value) throw new InputFailure(`${file}: ${where}: ${ref.file} is empty`);
  return value;
}

/** Whether a finding (and event type) passes a route or threshold filter. */
export function matchesFilter(filter: FilterConfig, finding: Finding, type?: 'opened' | 'resolved'): boolean {
  if (type && filter.events && !filter.events.includes(type)) return false;
  if (filter.minSeverity && SEVERITY_RANK[finding.severity] < SEVERITY_RANK[filter.minSeverity]) return false;
  if (filter.severities && !filter.severities.includes(finding.severity)) return false;
  const namespace = finding.object.namespace ?? '';
  if (filter.namespaces && !filter.namespaces.includes(namespace)) return false;
  if (filter.excludeNamespaces?.includes(namespace)) return false;
  if (filter.checks && !filter.checks.includes(finding.checkId)) return false;
  if (filter.frameworks && !checkInFrameworks(finding.controls, filter.frameworks)) return false;
  return true;
}
