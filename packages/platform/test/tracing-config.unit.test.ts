import { describe, expect, it } from 'vitest';
import { ConfigError, EnvReader, tracingConfig } from '@shop/platform/bootstrap';

const read = (env: Record<string, string>) => tracingConfig(new EnvReader(env));
const errorOf = (env: Record<string, string>) => {
  try {
    read(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
};

describe('tracing configuration (the standard OTEL_* variables)', () => {
  it('is off unless an OTLP endpoint or an exporter is named, and off when disabled or none', () => {
    expect(read({})).toBeUndefined();
    expect(read({ OTEL_SERVICE_NAME: 'shop' })).toBeUndefined();
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('on with an endpoint: OTLP over HTTP/protobuf, parent-based always-on sampling, the SDK batch defaults', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toEqual({
      exporter: 'otlp',
      protocol: 'http/protobuf',
      sampler: { kind: 'parentbased_always_on', ratio: 1 },
      batch: { scheduledDelayMillis: 5_000, maxQueueSize: 2_048, maxExportBatchSize: 512, exportTimeoutMillis: 30_000 },
    });
  });

  it('reads the protocol, the sampler and its ratio, and the batch settings; the traces-specific variable wins', () => {
    const config = read({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo.example:4318/v1/traces',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    expect(config).toMatchObject({ protocol: 'http/json', sampler: { kind: 'parentbased_traceidratio', ratio: 0.25 }, batch: { scheduledDelayMillis: 200 } });
    expect(read({ OTEL_TRACES_EXPORTER: 'console' })?.exporter).toBe('console');
  });

  it('stops the start with one line naming the variable for what it would ignore', () => {
    expect(errorOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatch(/^OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
    expect(errorOf({ OTEL_TRACES_EXPORTER: 'zipkin' })).toMatch(/^OTEL_TRACES_EXPORTER=zipkin is not supported/);
    expect(errorOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(errorOf({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'sometimes' })).toContain('OTEL_TRACES_SAMPLER');
    expect(errorOf({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' })).toMatch(/^OTEL_TRACES_SAMPLER_ARG=1.5/);
    expect(errorOf({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '200' })).toContain('larger than OTEL_BSP_MAX_QUEUE_SIZE');
  });
});
