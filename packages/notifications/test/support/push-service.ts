import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

/** The CA the module must trust to reach the local push service (our self-signed certificate). */
export const pushServiceCa = fixture('push-service.crt');

export interface PushRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * A Web Push service on https://localhost, as a browser vendor runs it: it takes the encrypted
 * message and answers 201, or the status a test sets (410: the subscription is gone).
 */
export class LocalPushService {
  readonly received: PushRequest[] = [];
  answerWith = 201;
  readonly #server = https.createServer({ cert: pushServiceCa, key: fixture('push-service.key') }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(this.answerWith).end();
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    return this;
  }

  /** A fresh endpoint on this service (one per subscription, as real services do). */
  endpoint(name: string): string {
    return `https://localhost:${(this.#server.address() as AddressInfo).port}/push/${name}`;
  }

  requestsTo(name: string): PushRequest[] {
    return this.received.filter((request) => request.path === `/push/${name}`);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
