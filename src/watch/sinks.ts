// Sinks: how a batch of events becomes one message. Generic webhook (versioned JSON body, event
// ids, HMAC-SHA256 signature over timestamp + body), Slack incoming webhook (readable blocks), and
// JSON lines on standard output. A sink's URL and secret are never logged: errors name the sink.
import { createHmac } from 'node:crypto';
import type { Finding } from '../model/types.js';
import { KSCAN_VERSION } from '../util/version.js';
import type { SinkConfig } from './config.js';
import { retryAfterMs } from './retry.js';
import type { WatchEvent } from './state.js';

/** The webhook body's schema version; receivers should check it. */
export const WATCH_MESSAGE_SCHEMA = 'kscan.io/watch-events/v1';

export type SendResult = { ok: true } | { ok: false; error: string; retryAfterMs?: number };

export interface Sink {
  readonly config: SinkConfig;
  send(events: WatchEvent[], signal: AbortSignal): Promise<SendResult>;
}

/** Signature of a webhook body: `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, timestamp in Unix seconds. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookBody(events: WatchEvent[]): string {
  return JSON.stringify({ schemaVersion: WATCH_MESSAGE_SCHEMA, kscanVersion: KSCAN_VERSION, sentAt: new Date().toISOString(), events });
}

const ICON: Record<string, string> = { critical: ':red_circle:', high: ':large_orange_circle:', medium: ':large_yellow_circle:', low: ':large_blue_circle:', info: ':white_circle:' };
const MAX_SLACK_EVENTS = 10;

function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function objectLabel(finding: Finding): string {
  const { kind, namespace, name } = finding.object;
  return `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

/** A Slack message: a header line, then per event severity, check, object, message and remediation. */
export function slackMessage(events: WatchEvent[]): { text: string; blocks: unknown[] } {
  const opened = events.filter((e) => e.type === 'opened').length;
  const resolved = events.length - opened;
  const namespaces = [...new Set(events.map((e) => e.finding.object.namespace ?? '(cluster)'))];
  const cluster = events[0]?.cluster ? ` on ${events[0].cluster}` : '';
  const headline = `kscan${cluster}: ${[opened ? `${opened} finding${opened === 1 ? '' : 's'} opened` : '', resolved ? `${resolved} resolved` : ''].filter(Boolean).join(', ')} in ${namespaces.slice(0, 3).join(', ')}${namespaces.length > 3 ? ` and ${namespaces.length - 3} more` : ''}`;
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*${slackEscape(headline)}*` } }];
  for (const event of events.slice(0, MAX_SLACK_EVENTS)) {
    const f = event.finding;
    const status = event.type === 'opened' ? `${ICON[f.severity] ?? ''} *${f.severity.toUpperCase()}* opened` : ':white_check_mark: resolved';
    const lines = [
      `${status} · *${slackEscape(f.checkId)}* ${slackEscape(f.title)}`,
      `*Object:* \`${slackEscape(objectLabel(f))}\`${f.path ? ` (${slackEscape(f.path)})` : ''}`,
      `*Message:* ${slackEscape(f.message)}`,
      ...(event.type === 'opened' ? [`*Remediation:* ${slackEscape(f.remediation)}`] : []),
      ...(event.threshold ? [`_policy ${slackEscape(event.threshold.policy)}: ${event.threshold.count} within ${slackEscape(event.threshold.window)}_`] : []),
    ];
    blocks.push({ type: 'divider' }, { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 2900) } });
  }
  if (events.length > MAX_SLACK_EVENTS) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `and ${events.length - MAX_SLACK_EVENTS} more` }] });
  return { text: headline, blocks };
}

async function post(config: SinkConfig, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<SendResult> {
  try {
    const response = await fetch(config.url!, {
      method: 'POST',
      body,
      headers: { ...config.headers, ...headers, 'Content-Type': 'application/json', 'User-Agent': `kscan/${KSCAN_VERSION}` },
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return { ok: true };
    const wait = retryAfterMs(response.headers.get('retry-after'));
    return { ok: false, error: `HTTP ${response.status}`, ...(wait !== undefined ? { retryAfterMs: wait } : {}) };
  } catch (error) {
    // Never the URL (a Slack webhook URL is a credential): the error code or name only.
    const e = error as { name?: string; cause?: { code?: string } };
    return { ok: false, error: e.cause?.code ?? (e.name === 'TimeoutError' ? 'timeout' : e.name === 'AbortError' ? 'aborted' : 'request failed') };
  }
}

export function makeSink(config: SinkConfig, timeoutMs: number, stdout: (line: string) => void = (line) => process.stdout.write(line)): Sink {
  switch (config.type) {
    case 'webhook':
      return {
        config,
        send(events, signal) {
          const body = webhookBody(events);
          const timestamp = String(Math.floor(Date.now() / 1000));
          const headers: Record<string, string> = { 'X-Kscan-Event-Ids': events.map((e) => e.id).join(','), 'X-Kscan-Timestamp': timestamp };
          if (config.secret) headers['X-Kscan-Signature'] = signature(config.secret, timestamp, body);
          return post(config, body, headers, timeoutMs, signal);
        },
      };
    case 'slack':
      return { config, send: (events, signal) => post(config, JSON.stringify(slackMessage(events)), {}, timeoutMs, signal) };
    case 'stdout':
      return {
        config,
        async send(events) {
          stdout(events.map((e) => JSON.stringify({ schemaVersion: WATCH_MESSAGE_SCHEMA, ...e }) + '\n').join(''));
          return { ok: true };
        },
      };
  }
}
