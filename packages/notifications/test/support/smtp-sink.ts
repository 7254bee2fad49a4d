import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The message as delivered (RFC 822: headers, then the MIME body). */
  raw: string;
}

/**
 * A real SMTP server in the test process (no TLS, no auth), collecting what it receives.
 * It can be stopped and started again on the same port (an outage), or told to refuse mail.
 */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** When set, every message is refused with this SMTP reply code (e.g. 451 or 554). */
  refuseWith: number | undefined;
  /** When set, the server takes this long to accept each message (a slow server). */
  delayMs = 0;
  /** Sessions opened so far. */
  connections = 0;
  #server: SMTPServer | undefined;
  #port = 0;

  get url(): string {
    return `smtp://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<this> {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onConnect: (_session, callback) => {
        this.connections += 1;
        callback();
      },
      onMailFrom: (_address, _session, callback) => {
        if (this.refuseWith === undefined) return callback();
        callback(Object.assign(new Error(`test server refuses mail (${this.refuseWith})`), { responseCode: this.refuseWith }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const envelope = session.envelope;
          const from = envelope.mailFrom ? envelope.mailFrom.address : '';
          this.received.push({ from, to: envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks).toString('utf8') });
          setTimeout(() => callback(), this.delayMs);
        });
      },
    });
    const server = this.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
