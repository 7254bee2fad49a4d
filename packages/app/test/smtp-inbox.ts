import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  /** The raw RFC 5322 message, as the server received it. */
  readonly raw: string;
}

export interface SmtpInbox {
  readonly url: string;
  readonly messages: readonly ReceivedMail[];
  /** Messages to this address whose raw text contains `needle`. */
  to(address: string, needle?: string): ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server in this process (no TLS, no auth), keeping what it receives. */
export async function startSmtpInbox(): Promise<SmtpInbox> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to: (address, needle) => messages.filter((mail) => mail.to.includes(address) && (needle === undefined || mail.raw.includes(needle))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
