import { ConfigError, EnvReader } from '@shop/platform/bootstrap';

export const MODULE_NAMES = ['orders', 'inventory', 'payments', 'notifications', 'reviews'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** Where one module lives, from this process's point of view. */
export interface ModulePlacement {
  readonly name: ModuleName;
  /** Hosted here (its tables, handlers and outbox run in this process). */
  readonly hosted: boolean;
  /**
   * `<MODULE>_URL`: where it runs elsewhere (required when not hosted; a remote copy when hosted).
   * One address, or several comma-separated (replicas without a balancer): calls are spread over them.
   */
  readonly url: string | undefined;
  /** `<MODULE>_SHADOW_URL`: a copy that also receives this process's reads, for comparison only (one address or several, as `url`). */
  readonly shadowUrl: string | undefined;
  /** `<MODULE>_REMOTE_PERCENT`: share of calls sent to the remote copy at start (changeable at run time). */
  readonly remotePercent: number;
}

export interface Topology {
  readonly modules: Readonly<Record<ModuleName, ModulePlacement>>;
  /** The modules hosted here, in MODULES order. */
  readonly hosted: readonly ModuleName[];
  /** `NATS_URL`: events travel over JetStream; required as soon as they cross processes. */
  readonly natsUrl: string | undefined;
  /** `NATS_STREAM` and `NATS_SUBJECT_PREFIX`: where events live, so deployments can share one NATS. */
  readonly natsStream: string;
  readonly natsSubjectPrefix: string;
  /** `SERVICE_SECRET`: signs and checks calls between processes; required when any exist. */
  readonly serviceSecret: string | undefined;
}

const envName = (module: ModuleName, suffix: string) => `${module.toUpperCase()}_${suffix}`;

/** Reads MODULES and every module's placement, refusing an inconsistent topology with one line. */
export function topologyConfig(read: EnvReader): Topology {
  const listed = read.list('MODULES') ?? [...MODULE_NAMES];
  for (const name of listed) {
    if (!(MODULE_NAMES as readonly string[]).includes(name)) throw new ConfigError(`MODULES names an unknown module "${name}" (known: ${MODULE_NAMES.join(', ')})`);
  }
  const hosted = [...new Set(listed)] as ModuleName[];
  const modules = Object.fromEntries(MODULE_NAMES.map((name) => [name, placementOf(read, name, hosted.includes(name))])) as Record<ModuleName, ModulePlacement>;

  const elsewhere = MODULE_NAMES.filter((name) => !hosted.includes(name));
  const unplaced = elsewhere.filter((name) => !modules[name].url);
  if (unplaced.length > 0) {
    throw new ConfigError(`MODULES leaves ${unplaced.join(', ')} hosted nowhere: add ${unplaced.length > 1 ? 'them' : 'it'} to MODULES or set ${unplaced.map((name) => envName(name, 'URL')).join(', ')}`);
  }
  const natsUrl = read.url('NATS_URL', ['nats:', 'tls:', 'ws:', 'wss:']) ? read.raw('NATS_URL') : undefined;
  const remoteCopies = MODULE_NAMES.filter((name) => modules[name].hosted && modules[name].url);
  if (!natsUrl && (elsewhere.length > 0 || remoteCopies.length > 0)) {
    const moved = [...elsewhere, ...remoteCopies].join(', ');
    throw new ConfigError(`NATS_URL is required: events cross processes once ${moved} run${elsewhere.length + remoteCopies.length > 1 ? '' : 's'} elsewhere`);
  }
  const serviceSecret = read.raw('SERVICE_SECRET');
  if (serviceSecret !== undefined && serviceSecret.length < 32) throw new ConfigError('SERVICE_SECRET must be at least 32 characters');
  const calls = MODULE_NAMES.filter((name) => modules[name].url || modules[name].shadowUrl);
  if (!serviceSecret && calls.length > 0) {
    throw new ConfigError(`SERVICE_SECRET is required to call ${calls.join(', ')} in another process (the same secret in every process)`);
  }
  const natsStream = read.string('NATS_STREAM', 'SHOP_EVENTS');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(natsStream)) throw new ConfigError(`NATS_STREAM must be letters, digits, - or _ (got "${natsStream}")`);
  const natsSubjectPrefix = read.string('NATS_SUBJECT_PREFIX', 'shop.events');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(natsSubjectPrefix)) throw new ConfigError(`NATS_SUBJECT_PREFIX must be dot-separated tokens without wildcards (got "${natsSubjectPrefix}")`);
  return { modules, hosted, natsUrl, natsStream, natsSubjectPrefix, serviceSecret };
}

function placementOf(read: EnvReader, name: ModuleName, hosted: boolean): ModulePlacement {
  const url = addresses(read, envName(name, 'URL'));
  const shadowUrl = addresses(read, envName(name, 'SHADOW_URL'));
  const remotePercent = read.integer(envName(name, 'REMOTE_PERCENT'), 0, 0, 100);
  if (!hosted && shadowUrl) throw new ConfigError(`${envName(name, 'SHADOW_URL')} needs ${name} hosted here (MODULES): only a local module can be compared with a copy`);
  if (!hosted && read.raw(envName(name, 'REMOTE_PERCENT')) !== undefined) {
    throw new ConfigError(`${envName(name, 'REMOTE_PERCENT')} needs ${name} hosted here (MODULES); without a local copy every call is remote`);
  }
  if (hosted && remotePercent > 0 && !url) throw new ConfigError(`${envName(name, 'REMOTE_PERCENT')} needs ${envName(name, 'URL')}: where the remote copy of ${name} runs`);
  return { name, hosted, url, shadowUrl, remotePercent };
}

/** One http(s) URL or several, comma-separated: each checked like a single one; kept as one normalised list (`a,b`). */
function addresses(read: EnvReader, variable: string): string | undefined {
  const raw = read.raw(variable);
  if (raw === undefined) return undefined;
  const entries = raw.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw new ConfigError(`${variable} has an empty entry in its comma-separated list (got "${raw}")`);
  // Each entry through the same reader as a single URL: the same one-line error, naming the variable.
  return entries.map((entry) => new EnvReader({ [variable]: entry }).url(variable, ['http:', 'https:'])!.toString().replace(/\/$/, '')).join(',');
}
