import { Flags } from '@oclif/core';
import { loadWatchConfig } from '../../watch/config.js';
import { jsonLogger } from '../../watch/log.js';
import { startPublisher } from '../../watch/publish.js';
import { readFile } from 'node:fs/promises';
import { KscanCommand } from '../../cli/base.js';
import { scanFlags } from '../../cli/flags.js';
import { loadChecks } from '../../checks/loader.js';
import { AuditAnalyzer } from '../../audit/analyzer.js';
import { NoveltyDetector, readBaseline } from '../../audit/baseline.js';
import { auditFlags } from '../../audit/cli.js';
import { readRuleParams } from '../../audit/analyze.js';
import { compileAuditRules } from '../../audit/rules.js';
import { parseListen, startWebhookServer } from '../../audit/server.js';
import { InputFailure, errorMessage } from '../../util/errors.js';

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InputFailure(`${file}: cannot read ${what} (${errorMessage(error)})`);
  }
}

export default class AuditServe extends KscanCommand {
  static override summary = 'Run an audit webhook backend: the API server posts audit events, kscan prints findings as JSON lines.';
  static override description =
    'Listens on HTTPS for the EventList batches an API server sends to its audit webhook (--audit-webhook-config-file; deploy/audit-webhook/webhook-config.yaml is the file to start from, with an audit policy beside it). Senders must authenticate with the bearer token in --token or a client certificate signed by --client-ca; others get 401, bodies over --max-body-bytes get 413. Events go through the same audit rules as `kscan audit`; each new finding, and each threshold alert, is printed to standard output as one JSON line. Stops on SIGINT or SIGTERM.';
  static override examples = [
    '<%= config.bin %> audit serve --listen 0.0.0.0:8443 --tls-cert tls.crt --tls-key tls.key --token token.txt',
    '<%= config.bin %> audit serve --listen 127.0.0.1:8443 --tls-cert tls.crt --tls-key tls.key --client-ca apiserver-client-ca.crt',
  ];
  static override flags = {
    listen: Flags.string({ description: 'Address to listen on, host:port.', default: '127.0.0.1:8443' }),
    'tls-cert': Flags.string({ description: 'Server certificate (PEM).', required: true }),
    'tls-key': Flags.string({ description: 'Server private key (PEM).', required: true }),
    token: Flags.string({ description: 'File holding the bearer token senders must present.' }),
    'client-ca': Flags.string({ description: 'CA certificate (PEM) that signs the client certificates senders must present.' }),
    'max-body-bytes': Flags.integer({ description: 'Largest request body accepted; larger ones get 413.', default: 16 * 1024 * 1024, min: 1024 }),
    'checks-dir': scanFlags['checks-dir'],
    config: Flags.string({ description: 'Watch-mode configuration (watch.yaml, or .kscan.yaml with a watch: section): alerts also go to its sinks (webhook, Slack, stdout) with routing, thresholds and the durable outbox.' }),
    state: Flags.string({ description: 'SQLite file for the outbox and the announced findings, with --config.', default: 'kscan-audit-serve.sqlite' }),
    ...auditFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AuditServe);
    if (!flags.token && !flags['client-ca']) throw new InputFailure('give --token or --client-ca: the webhook backend does not accept unauthenticated senders');
    let listen: { host: string; port: number };
    try {
      listen = parseListen(flags.listen);
    } catch (error) {
      throw new InputFailure(errorMessage(error));
    }
    const loaded = await loadChecks(flags['checks-dir'] ?? []);
    if (loaded.errors.length) throw new InputFailure(loaded.errors.map((e) => `${e.source}: ${e.message}`).join('; '));
    const token = flags.token ? (await readPem(flags.token, 'the token')).trim() : undefined;
    if (flags.token && !token) throw new InputFailure(`${flags.token}: the token file is empty`);
    const baseline = flags['audit-baseline'] ? { file: flags['audit-baseline'], detector: new NoveltyDetector(await readBaseline(flags['audit-baseline'])) } : undefined;
    // With --config, alerts also go to the watch-mode sinks (webhook, Slack), through the durable outbox.
    const publisher = flags.config ? startPublisher(loadWatchConfig(flags.config), flags.state, jsonLogger()) : undefined;
    const analyzer = new AuditAnalyzer({
      rules: compileAuditRules(loaded.checks, await readRuleParams(flags['rule-params'])),
      baseline,
      onAlert: (finding) => {
        process.stdout.write(JSON.stringify(finding) + '\n');
        publisher?.publish(finding);
      },
    });
    const server = await startWebhookServer({
      ...listen,
      certPem: await readPem(flags['tls-cert'], 'the TLS certificate'),
      keyPem: await readPem(flags['tls-key'], 'the TLS key'),
      token,
      clientCaPem: flags['client-ca'] ? await readPem(flags['client-ca'], 'the client CA') : undefined,
      maxBodyBytes: flags['max-body-bytes'],
      onEvent: (event) => analyzer.add(event),
      onProblem: (message) => process.stderr.write(`kscan: rejected ${message}\n`),
    }).catch((error: unknown) => {
      throw new InputFailure(`cannot listen on ${flags.listen}: ${errorMessage(error)}`);
    });
    process.stderr.write(`kscan: audit webhook listening on ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await publisher?.close();
    for (const error of analyzer.errors) process.stderr.write(`kscan: ${error.source}: ${error.message}\n`);
    process.stderr.write(`kscan: received ${server.stats.events} events in ${server.stats.batches} batches, rejected ${server.stats.rejected} requests, ${analyzer.findings().length} findings\n`);
  }
}
