// The audit webhook backend: an HTTPS endpoint the API server posts EventList batches to
// (--audit-webhook-config-file). Senders authenticate with a bearer token or a client certificate;
// unauthenticated requests get 401, methods other than POST 405, content types other than JSON
// 415, bodies over the limit 413, bodies that are not JSON (or not audit events) 400.
import { timingSafeEqual } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { errorMessage } from '../util/errors.js';
import { unwrap, type AuditEvent } from './event.js';

export interface WebhookServerOptions {
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Bearer token senders must present. */
  token?: string;
  /** CA that signs the client certificates senders must present. */
  clientCaPem?: string;
  maxBodyBytes: number;
  onEvent: (event: AuditEvent) => void;
  /** A rejected or unreadable request, for the operator's log. */
  onProblem?: (message: string) => void;
}

export interface WebhookServer {
  url: string;
  stats: { batches: number; events: number; rejected: number };
  close(): Promise<void>;
}

export function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  if (!options.token && !options.clientCaPem) throw new Error('the webhook backend needs --token or --client-ca: it does not accept unauthenticated senders');
  const stats = { batches: 0, events: 0, rejected: 0 };
  const expected = options.token ? Buffer.from(`Bearer ${options.token}`) : undefined;
  const reject = (res: ServerResponse, status: number, reason: string, req: IncomingMessage) => {
    stats.rejected++;
    options.onProblem?.(`${req.socket.remoteAddress ?? '?'} ${req.method} ${req.url}: ${status} ${reason}`);
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status, message: reason }) + '\n');
  };
  const authenticated = (req: IncomingMessage): boolean => {
    if (options.clientCaPem && !(req.socket as TLSSocket).authorized) return false;
    if (expected) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    }
    return true;
  };
  const server = https.createServer(
    { cert: options.certPem, key: options.keyPem, ...(options.clientCaPem ? { ca: options.clientCaPem, requestCert: true, rejectUnauthorized: false } : {}), minVersion: 'TLSv1.2' },
    (req, res) => {
      if (!authenticated(req)) return reject(res, 401, 'authentication required', req);
      if (req.method !== 'POST') return reject(res, 405, 'only POST of an audit EventList', req);
      const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/json') return reject(res, 415, `content type ${type || '(none)'} is not application/json`, req);
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > options.maxBodyBytes) {
        reject(res, 413, `body larger than ${options.maxBodyBytes} bytes`, req);
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        if (tooLarge) return;
        size += chunk.length;
        if (size > options.maxBodyBytes) {
          tooLarge = true;
          chunks.length = 0;
          reject(res, 413, `body larger than ${options.maxBodyBytes} bytes`, req);
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (tooLarge) return;
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch (error) {
          return reject(res, 400, `body is not JSON: ${errorMessage(error).slice(0, 100)}`, req);
        }
        const result = unwrap(body);
        if ('unsupported' in result) return reject(res, 400, result.unsupported, req);
        stats.batches++;
        for (const event of result.events) {
          stats.events++;
          options.onEvent(event);
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}\n');
      });
    },
  );
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        url: `https://${host}:${port}`,
        stats,
        close: () => new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

/** "127.0.0.1:8443", "[::1]:8443", ":8443" → host and port. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`--listen ${value}: expected host:port, e.g. 127.0.0.1:8443`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}
