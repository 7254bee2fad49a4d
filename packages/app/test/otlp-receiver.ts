import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A span as it arrived, whichever encoding carried it. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP's numbers: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  /** The span ids it links to. */
  readonly links: readonly string[];
  /** The resource's attributes (service.name, shop.modules…). */
  readonly resource: Record<string, unknown>;
  /** How it came: `application/x-protobuf` or `application/json`. */
  readonly encoding: string;
}

export interface OtlpReceiver {
  /** What `OTEL_EXPORTER_OTLP_ENDPOINT` is set to (the exporter appends `/v1/traces`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Requests that could not be decoded (a test fails on any). */
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * A local OTLP/HTTP trace receiver: what Jaeger, Tempo or a collector listen with on 4318,
 * reduced to decoding what the exporters really send, `http/protobuf` (the default) and
 * `http/json`, and keeping the spans for a test to read.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const errors: string[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim();
      try {
        if (request.method !== 'POST' || request.url !== '/v1/traces') throw new Error(`${request.method} ${request.url}`);
        let body = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (type === 'application/x-protobuf') spans.push(...fromProtobuf(body));
        else if (type === 'application/json') spans.push(...fromJson(JSON.parse(body.toString('utf8'))));
        else throw new Error(`content-type ${type}`);
        response.writeHead(200, { 'content-type': type });
        response.end(type === 'application/json' ? '{}' : undefined); // an empty ExportTraceServiceResponse
      } catch (error) {
        errors.push((error as Error).message);
        response.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    errors,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- http/json: the OTLP JSON mapping (ids in hex, enums as numbers) ---

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

function fromJson(request: { resourceSpans?: any[] }): ReceivedSpan[] {
  const received: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = jsonAttributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        received.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          name: span.name,
          kind: span.kind ?? 0,
          attributes: jsonAttributes(span.attributes),
          links: (span.links ?? []).map((link: { spanId: string }) => link.spanId),
          resource,
          encoding: 'application/json',
        });
      }
    }
  }
  return received;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, jsonValue(value)]));
}

function jsonValue(value: Record<string, any>): unknown {
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return (value.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

// --- http/protobuf: opentelemetry/proto/collector/trace/v1 ExportTraceServiceRequest, read by field number ---

/** Each field of a message: its number, and its value (a varint, or the bytes of a length-delimited field). */
function* fields(buffer: Buffer): Generator<{ field: number; varint?: bigint; bytes?: Buffer }> {
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const field = key >> 3;
    switch (key & 7) {
      case 0:
        yield { field, varint: varint() };
        break;
      case 1:
        yield { field, bytes: buffer.subarray(at, (at += 8)) };
        break;
      case 2: {
        const length = Number(varint());
        yield { field, bytes: buffer.subarray(at, (at += length)) };
        break;
      }
      case 5:
        yield { field, bytes: buffer.subarray(at, (at += 4)) };
        break;
      default:
        throw new Error(`protobuf wire type ${key & 7} at ${at}`);
    }
  }
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const received: ReceivedSpan[] = [];
  for (const resourceSpans of fields(body)) {
    if (resourceSpans.field !== 1) continue; // ExportTraceServiceRequest.resource_spans
    let resource: Record<string, unknown> = {};
    const scopes: Buffer[] = [];
    for (const part of fields(resourceSpans.bytes!)) {
      if (part.field === 1) resource = protoAttributes(part.bytes!, 1); // ResourceSpans.resource → Resource.attributes
      if (part.field === 2) scopes.push(part.bytes!); // ResourceSpans.scope_spans
    }
    for (const scope of scopes) {
      for (const part of fields(scope)) if (part.field === 2) received.push(protoSpan(part.bytes!, resource)); // ScopeSpans.spans
    }
  }
  return received;
}

function protoSpan(bytes: Buffer, resource: Record<string, unknown>): ReceivedSpan {
  const span = { traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, attributes: {} as Record<string, unknown>, links: [] as string[] };
  for (const part of fields(bytes)) {
    if (part.field === 1) span.traceId = part.bytes!.toString('hex');
    else if (part.field === 2) span.spanId = part.bytes!.toString('hex');
    else if (part.field === 4) span.parentSpanId = part.bytes!.toString('hex');
    else if (part.field === 5) span.name = part.bytes!.toString('utf8');
    else if (part.field === 6) span.kind = Number(part.varint);
    else if (part.field === 9) Object.assign(span.attributes, protoKeyValue(part.bytes!));
    else if (part.field === 13) for (const link of fields(part.bytes!)) if (link.field === 2) span.links.push(link.bytes!.toString('hex')); // Span.Link.span_id
  }
  return { ...span, resource, encoding: 'application/x-protobuf' };
}

function protoAttributes(bytes: Buffer, field: number): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const part of fields(bytes)) if (part.field === field) Object.assign(attributes, protoKeyValue(part.bytes!));
  return attributes;
}

function protoKeyValue(bytes: Buffer): Record<string, unknown> {
  let key = '';
  let value: unknown;
  for (const part of fields(bytes)) {
    if (part.field === 1) key = part.bytes!.toString('utf8');
    if (part.field === 2) value = protoAnyValue(part.bytes!);
  }
  return { [key]: value };
}

function protoAnyValue(bytes: Buffer): unknown {
  for (const part of fields(bytes)) {
    switch (part.field) {
      case 1:
        return part.bytes!.toString('utf8');
      case 2:
        return part.varint === 1n;
      case 3:
        return Number(BigInt.asIntN(64, part.varint!));
      case 4:
        return part.bytes!.readDoubleLE(0);
      case 5: // ArrayValue.values
        return [...fields(part.bytes!)].filter((item) => item.field === 1).map((item) => protoAnyValue(item.bytes!));
      default:
        return undefined;
    }
  }
  return undefined;
}
