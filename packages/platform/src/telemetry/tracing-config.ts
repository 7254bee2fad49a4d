import { ConfigError } from '../config-error.ts';
import type { EnvReader } from '../config.ts';

/**
 * Tracing as the standard `OTEL_*` variables configure it. The exporter reads its own endpoint,
 * headers, timeout and compression (`OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT|HEADERS|TIMEOUT|COMPRESSION`)
 * and the resource its attributes (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`); what the
 * trace SDK no longer reads by itself is read here, and a value it would ignore stops the start.
 */
export interface TracingConfig {
  /** `OTEL_TRACES_EXPORTER`: where spans go. */
  readonly exporter: 'otlp' | 'console';
  /** `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`. gRPC is not offered: every OTLP receiver also listens on HTTP (4318). */
  readonly protocol: 'http/protobuf' | 'http/json';
  /** `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (the ratio, for the ratio samplers). */
  readonly sampler: { readonly kind: SamplerKind; readonly ratio: number };
  /** `OTEL_BSP_*`: how spans are batched on their way out. */
  readonly batch: {
    readonly scheduledDelayMillis: number;
    readonly maxQueueSize: number;
    readonly maxExportBatchSize: number;
    readonly exportTimeoutMillis: number;
  };
}

const SAMPLERS = ['parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio', 'always_on', 'always_off', 'traceidratio'] as const;
export type SamplerKind = (typeof SAMPLERS)[number];

/**
 * Off (undefined) unless an OTLP endpoint or `OTEL_TRACES_EXPORTER` is set, and always off with
 * `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`: a process that exports nowhere builds
 * no span at all.
 */
export function tracingConfig(read: EnvReader): TracingConfig | undefined {
  if (read.oneOf('OTEL_SDK_DISABLED', 'false', ['true', 'false']) === 'true') return undefined;
  const exporters = read.list('OTEL_TRACES_EXPORTER');
  const endpoint = read.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:']) ?? read.url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']);
  if (exporters === undefined && endpoint === undefined) return undefined;
  const exporter = exporters?.[0] ?? 'otlp';
  if (exporters && exporters.length > 1) throw new ConfigError(`OTEL_TRACES_EXPORTER=${exporters.join(',')}: name one exporter (otlp, console or none)`);
  if (exporter === 'none') return undefined;
  if (exporter !== 'otlp' && exporter !== 'console') throw new ConfigError(`OTEL_TRACES_EXPORTER=${exporter} is not supported: use otlp, console or none`);
  const protocolVariable = read.raw('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = read.raw(protocolVariable) ?? 'http/protobuf';
  if (protocol === 'grpc') throw new ConfigError(`${protocolVariable}=grpc is not supported: use http/protobuf (the receiver's port 4318) or http/json`);
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') throw new ConfigError(`${protocolVariable}=${protocol}: expected http/protobuf or http/json`);
  const kind = read.oneOf('OTEL_TRACES_SAMPLER', 'parentbased_always_on', SAMPLERS);
  const maxQueueSize = read.integer('OTEL_BSP_MAX_QUEUE_SIZE', 2_048, 1, 1_000_000);
  const maxExportBatchSize = read.integer('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', Math.min(512, maxQueueSize), 1, 1_000_000);
  if (maxExportBatchSize > maxQueueSize) throw new ConfigError(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${maxExportBatchSize} is larger than OTEL_BSP_MAX_QUEUE_SIZE=${maxQueueSize}`);
  return {
    exporter,
    protocol,
    sampler: { kind, ratio: ratioOf(read, kind) },
    batch: {
      scheduledDelayMillis: read.integer('OTEL_BSP_SCHEDULE_DELAY', 5_000, 1, 3_600_000),
      maxQueueSize,
      maxExportBatchSize,
      exportTimeoutMillis: read.integer('OTEL_BSP_EXPORT_TIMEOUT', 30_000, 1, 3_600_000),
    },
  };
}

function ratioOf(read: EnvReader, kind: SamplerKind): number {
  const value = read.raw('OTEL_TRACES_SAMPLER_ARG');
  if (!kind.endsWith('traceidratio') || value === undefined) return 1;
  const ratio = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || ratio > 1) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG=${value}: expected a ratio from 0 to 1 for ${kind}`);
  return ratio;
}
