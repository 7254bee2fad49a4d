import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { decodeForm, type FormValue } from './stand-in/form.ts';
import { StandInLedger, type Answer, type PaymentIntent, type Refund } from './stand-in/ledger.ts';

export type { PaymentIntent, Refund } from './stand-in/ledger.ts';

export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly idempotencyKey: string | undefined;
  /** The raw form-encoded body, as sent. */
  readonly body: string;
}

/**
 * How the next requests fail: `error` answers 500 and does nothing; `reset` closes the socket
 * before doing anything; `lose-response` does the work (and stores its idempotent answer),
 * then closes the socket, as when a response is lost on the way back.
 */
export type StandInFailure = 'error' | 'reset' | 'lose-response';

export interface StandInOptions {
  /**
   * How long each answer waits before it is sent, after the work is done and its idempotent
   * answer stored (default 0): a slow way back, so a client that dies meanwhile has been
   * charged without hearing of it.
   */
  readonly responseDelayMs?: number;
}

export interface StripeStandIn {
  /** Base URL to give the Stripe provider as `apiUrl`. */
  readonly url: string;
  /** Every request received, oldest first (failed ones too). */
  readonly requests: StandInRequest[];
  /** Successful charges (succeeded PaymentIntents), for one Idempotency-Key or all. */
  chargesFor(idempotencyKey?: string): PaymentIntent[];
  /** Refunds made, for one PaymentIntent or all. */
  refundsFor(paymentIntentId?: string): Refund[];
  /** Makes the next `count` requests fail the way `mode` says. */
  failNext(count?: number, mode?: StandInFailure): void;
  /** Answers being held back by `responseDelayMs` right now: work done that its client has not heard of yet. */
  readonly heldAnswers: number;
  close(): Promise<void>;
}

interface StoredAnswer extends Answer {
  readonly request: string;
}

/**
 * A local stand-in for Stripe's API, speaking its wire protocol: form-encoded requests with
 * Bearer `sk_…` auth, Stripe-shaped JSON objects and errors, and Idempotency-Key semantics
 * (the same key and parameters replay the stored answer; other parameters are a 400
 * `idempotency_error`). Covers POST /v1/payment_intents, GET /v1/payment_intents/:id and
 * POST /v1/refunds, with the outcomes of Stripe's test payment methods.
 */
export async function startStripeStandIn(options: StandInOptions = {}): Promise<StripeStandIn> {
  const responseDelayMs = options.responseDelayMs ?? 0;
  let heldAnswers = 0;
  const ledger = new StandInLedger();
  const requests: StandInRequest[] = [];
  const answered = new Map<string, StoredAnswer>();
  const failures: StandInFailure[] = [];

  function route(method: string, path: string, params: Record<string, FormValue>, key: string | undefined): Answer {
    if (method === 'POST' && path === '/v1/payment_intents') return ledger.createPaymentIntent(params, key);
    if (method === 'POST' && path === '/v1/refunds') return ledger.createRefund(params);
    const intent = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && intent) return ledger.retrievePaymentIntent(decodeURIComponent(intent[1]!));
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}).` } } };
  }

  /** Stripe's idempotency: a POST with a known key replays its first answer, if the request is the same. */
  function idempotent(method: string, path: string, params: Record<string, FormValue>, key: string | undefined): Answer & { replayed?: boolean } {
    if (method !== 'POST' || key === undefined) return route(method, path, params, key);
    const request = JSON.stringify([method, path, canonical(params)]);
    const earlier = answered.get(key);
    if (earlier) {
      if (earlier.request !== request) {
        return {
          status: 400,
          body: { error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.` } },
        };
      }
      return { ...earlier, replayed: true };
    }
    const answer = route(method, path, params, key);
    answered.set(key, { ...answer, request });
    return answer;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    const method = req.method ?? 'GET';
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    requests.push({ method, path, idempotencyKey: key, body });

    const failure = failures.shift();
    if (failure === 'reset') return void req.socket.destroy();
    if (failure === 'error') return send(res, { status: 500, body: { error: { type: 'api_error', message: 'An unknown error occurred' } } });
    if (!authorized(req.headers.authorization)) {
      return send(res, { status: 401, body: { error: { type: 'invalid_request_error', message: 'Invalid API Key provided. You need to send a secret key (sk_...) as a Bearer token.' } } });
    }
    const answer = idempotent(method, path, decodeForm(body), key);
    if (failure === 'lose-response') return void req.socket.destroy();
    if (responseDelayMs > 0) {
      heldAnswers += 1;
      try {
        await new Promise((resolve) => setTimeout(resolve, responseDelayMs));
      } finally {
        heldAnswers -= 1;
      }
      // The client is gone (it died, or closed the connection): the work stays done, unheard.
      if (req.socket.destroyed) return;
    }
    send(res, answer, { ...(key ? { 'idempotency-key': key } : {}), ...(answer.replayed ? { 'idempotent-replayed': 'true' } : {}) });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => send(res, { status: 500, body: { error: { type: 'api_error', message: error.message } } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    chargesFor: (key) => [...ledger.intents.values()].filter((intent) => intent.status === 'succeeded' && (key === undefined || intent.idempotency_key === key)),
    refundsFor: (intentId) => ledger.refunds.filter((refund) => intentId === undefined || refund.payment_intent === intentId),
    failNext: (count = 1, mode = 'error') => failures.push(...Array.from({ length: count }, () => mode)),
    get heldAnswers() {
      return heldAnswers;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function authorized(header: string | undefined): boolean {
  const bearer = /^Bearer\s+((?:sk|rk)_(?:test|live)_\w+)$/.exec(header ?? '');
  if (bearer) return true;
  const basic = /^Basic\s+(\S+)$/.exec(header ?? '');
  return basic !== null && /^(?:sk|rk)_(?:test|live)_\w+:?$/.test(Buffer.from(basic[1]!, 'base64').toString());
}

function send(res: ServerResponse, answer: Answer, headers: Record<string, string> = {}): void {
  res.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': `req_${randomBytes(7).toString('hex')}`, 'stripe-version': '2024-06-20', ...headers });
  res.end(JSON.stringify(answer.body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function canonical(value: FormValue): unknown {
  if (typeof value === 'string' || Array.isArray(value)) return Array.isArray(value) ? value.map(canonical) : value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonical(v)]));
}
