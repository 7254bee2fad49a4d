import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { freePort, signToken } from '@shop/platform';
import { createTestDatabase, deleteNatsStream, startNatsForTests, type TestDatabase } from '@shop/platform/testing';
import { MODULE_NAMES, loadConfig } from '../src/config.ts';
import { REPO_ROOT, childEnv, startServer, type ServerEnv, type ServerProcess } from './process.ts';

/** The split overlay: one process per module. */
const SPLIT_PROCESSES = MODULE_NAMES.map((name) => `shop-${name}`).sort();

/**
 * The Kubernetes manifests (deploy/), checked without a cluster:
 * 1. every overlay renders with `kubectl kustomize`;
 * 2. every object it renders is valid against the Kubernetes API's schemas (kubernetes-models:
 *    the API's OpenAPI schemas compiled to validators, shipped in the npm package, no download);
 * 3. the environment each Deployment gives its container (its ConfigMaps and Secret after
 *    kustomize, envFrom and env) is one the app accepts: the app starts with exactly that
 *    environment, with only the addresses of the outside world made local (the database, NATS,
 *    the other modules' Services, the port, DATA_DIR), and `/ready` answers 200. The migration
 *    Job's command runs with its environment (monolith); the split overlay's four processes run
 *    together on an empty database, migrating at start as every process still does.
 *
 * overlays/payments-out (the monolith with payments moved out, step one) is rendered, validated and
 * its environments checked with loadConfig; its processes are the same mechanism as split's.
 *
 * Without kubectl the file is skipped, loudly; under CI (CI set) that is a failure instead.
 */
const OVERLAYS = ['monolith', 'split', 'payments-out'] as const;
type Overlay = (typeof OVERLAYS)[number];

const MIGRATE_MAIN = fileURLToPath(new URL('../src/migrate-main.ts', import.meta.url));

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; [field: string]: any };

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const kubectl = hasKubectl();
if (!kubectl) {
  if (process.env.CI) throw new Error('kubectl is not on PATH: CI must render the Kubernetes manifests (deploy/)');
  console.warn('\n*** SKIPPED deploy-manifests.test.ts: kubectl is not on PATH, so deploy/ was neither rendered nor validated ***\n');
}

function render(overlay: Overlay): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', `deploy/overlays/${overlay}`], { cwd: REPO_ROOT, encoding: 'utf8' });
  return parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw document.errors[0]!;
    return document.toJS() as K8sObject;
  });
}

/** Validates against the schema of the object's apiVersion and kind; throws naming the field. */
async function validate(object: K8sObject): Promise<void> {
  // kubernetes-models/<group>/<version>/<Kind> (core objects: kubernetes-models/v1/<Kind>).
  const specifier = `kubernetes-models/${object.apiVersion}/${object.kind}`;
  const model = (await import(/* @vite-ignore */ specifier))[object.kind] as new (data: unknown) => { validate(): void };
  if (typeof model !== 'function') throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new model(object.kind === 'Secret' ? unwrapSecretData(object) : object).validate();
}

/**
 * kustomize wraps long base64 values over several lines; the API server's decoder (Go's base64)
 * skips the line breaks, the schema's "byte" format does not: compare what the server reads.
 */
function unwrapSecretData(secret: K8sObject): K8sObject {
  const data = Object.fromEntries(Object.entries<string>(secret.data ?? {}).map(([key, value]) => [key, value.replace(/[\r\n]/g, '')]));
  return { ...secret, data };
}

function byKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind);
}

function named(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`the overlay references ${kind} ${name}, which it does not render`);
  return found;
}

/** What a container's environment is in the cluster: envFrom in order, then env over it. */
function containerEnv(objects: readonly K8sObject[], container: any): Record<string, string> {
  const dataOf = (kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> => {
    const object = named(objects, kind, name);
    if (kind === 'ConfigMap') return { ...object.data };
    const decoded = Object.fromEntries(Object.entries<string>(object.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
    return { ...decoded, ...object.stringData };
  };
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const data = source.configMapRef ? dataOf('ConfigMap', source.configMapRef.name) : dataOf('Secret', source.secretRef.name);
    for (const [key, value] of Object.entries(data)) env[`${source.prefix ?? ''}${key}`] = value;
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from?.configMapKeyRef) env[variable.name] = dataOf('ConfigMap', from.configMapKeyRef.name)[from.configMapKeyRef.key]!;
    else if (from?.secretKeyRef) env[variable.name] = dataOf('Secret', from.secretKeyRef.name)[from.secretKeyRef.key]!;
    else if (from) throw new Error(`${variable.name}: valueFrom ${Object.keys(from).join()} is not supported by this test`);
    else env[variable.name] = variable.value ?? '';
  }
  return env;
}

/** The Deployment whose pods a Service selects. */
function deploymentBehind(objects: readonly K8sObject[], serviceName: string): K8sObject {
  const selector: Record<string, string> = named(objects, 'Service', serviceName).spec.selector;
  const matches = byKind(objects, 'Deployment').filter((deployment) =>
    Object.entries(selector).every(([key, value]) => deployment.spec.template.metadata.labels?.[key] === value),
  );
  if (matches.length !== 1) throw new Error(`Service ${serviceName} selects ${matches.length} Deployments`);
  return matches[0]!;
}

function container(workload: K8sObject): any {
  const containers = workload.spec.template.spec.containers;
  expect(containers, `${workload.kind} ${workload.metadata.name}`).toHaveLength(1);
  return containers[0];
}

interface Outside {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** Per overlay: its own stream and subjects, so a shared NATS (CI) keeps runs apart. */
  readonly nats: { NATS_STREAM: string; NATS_SUBJECT_PREFIX: string };
}

/**
 * The cluster's environment with the outside world made local: only addresses change (and
 * DATA_DIR, an emptyDir in the pod, becomes the temporary folder startServer makes).
 */
function localEnv(env: Record<string, string>, outside: Outside, ports: ReadonlyMap<string, number>, port: number, objects: readonly K8sObject[]): ServerEnv {
  const local: ServerEnv = { ...env };
  expect(env.DATABASE_URL, 'DATABASE_URL').toBeTruthy();
  local.DATABASE_URL = outside.databaseUrl;
  if (env.NATS_URL) Object.assign(local, { NATS_URL: outside.natsUrl, ...outside.nats });
  expect(env.PORT, 'PORT').toBe(String(container(byKind(objects, 'Deployment')[0]!).ports[0].containerPort));
  local.PORT = String(port);
  delete local.DATA_DIR;
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Z]+_URL$/.test(name) || name === 'DATABASE_URL' || name === 'NATS_URL') continue;
    local[name] = value
      .split(',')
      .map((address) => {
        const { hostname, port: servicePort } = new URL(address);
        const service = named(objects, 'Service', hostname);
        expect(service.spec.ports.map((p: any) => String(p.port)), `${name}: ${address}`).toContain(servicePort || '80');
        return `http://127.0.0.1:${ports.get(deploymentBehind(objects, hostname).metadata.name)}`;
      })
      .join(',');
  }
  return local;
}

/** Runs the migration Job's command, from the sources, with its environment. */
function runMigrations(env: ServerEnv): Promise<{ code: number | null; output: string }> {
  const { env: environment, ownDir } = childEnv(env);
  const child = spawn(process.execPath, ['--import', 'tsx', MIGRATE_MAIN], { cwd: REPO_ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      if (ownDir) execFileSync('rm', ['-rf', ownDir]);
      resolve({ code, output });
    }),
  );
}

const nats = kubectl ? await startNatsForTests() : undefined;
afterAll(() => nats?.stop());

describe.skipIf(!kubectl)(kubectl ? 'Kubernetes manifests (deploy/)' : 'Kubernetes manifests (deploy/) — SKIPPED: kubectl is not on PATH', () => {
  const rendered = new Map<Overlay, K8sObject[]>();
  beforeAll(() => {
    for (const overlay of OVERLAYS) rendered.set(overlay, render(overlay));
  });

  it.each(OVERLAYS)('%s renders what it promises', (overlay) => {
    const objects = rendered.get(overlay)!;
    const deployments = byKind(objects, 'Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(
      { monolith: ['shop-main'], split: SPLIT_PROCESSES, 'payments-out': ['shop-main', 'shop-payments'] }[overlay],
    );
    for (const deployment of deployments) {
      const name = deployment.metadata.name;
      const main = container(deployment);
      expect(main.image, name).toBe('ghcr.io/example/shop:0.1.0');
      expect(main.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      expect(main.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
      expect(main.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(main.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      // One of each per Deployment, pointing at it.
      const pdbs = byKind(objects, 'PodDisruptionBudget').filter((pdb) => Object.entries(pdb.spec.selector.matchLabels).every(([k, v]) => deployment.spec.template.metadata.labels[k] === v));
      expect(pdbs, `${name}: PodDisruptionBudgets`).toHaveLength(1);
      const hpas = byKind(objects, 'HorizontalPodAutoscaler').filter((hpa) => hpa.spec.scaleTargetRef.name === name);
      expect(hpas, `${name}: HorizontalPodAutoscalers`).toHaveLength(1);
      expect(hpas[0]!.spec.metrics[0].resource.name).toBe('cpu');
      expect(hpas[0]!.spec.minReplicas).toBe(name === 'shop-main' ? 3 : 2);
      // The grace period covers preStop, then the app's whole shutdown (drain included), with a margin.
      const env = containerEnv(objects, main);
      const graceMs = deployment.spec.template.spec.terminationGracePeriodSeconds * 1000;
      const preStopMs = (main.lifecycle.preStop.sleep?.seconds ?? 0) * 1000;
      expect(graceMs).toBeGreaterThanOrEqual(preStopMs + Number(env.SHUTDOWN_DRAIN_MS) + Number(env.SHUTDOWN_TIMEOUT_MS) + 5_000);
    }
    if (overlay === 'split') {
      for (const module of MODULE_NAMES) {
        expect(containerEnv(objects, container(named(objects, 'Deployment', `shop-${module}`))).MODULES).toBe(module);
        expect(deploymentBehind(objects, `shop-${module}`).metadata.name).toBe(`shop-${module}`);
      }
    }
    if (overlay === 'payments-out') {
      // Step one of moving payments out: main still hosts it and knows its copy; the copy hosts payments only.
      const main = containerEnv(objects, container(named(objects, 'Deployment', 'shop-main')));
      expect(main).toMatchObject({ MODULES: MODULE_NAMES.join(','), PAYMENTS_URL: 'http://shop-payments:8080' });
      const copy = containerEnv(objects, container(named(objects, 'Deployment', 'shop-payments')));
      expect(copy).toMatchObject({ MODULES: 'payments', ORDERS_URL: 'http://shop-main:8080' });
      expect(copy.PAYMENTS_URL).toBeUndefined();
      // Both environments are ones the app accepts (the processes themselves start in the tests below for the other two overlays).
      for (const env of [main, copy]) expect(() => loadConfig(env)).not.toThrow();
    }
    const job = named(objects, 'Job', 'shop-migrate');
    expect(container(job).command).toEqual(['node', '--enable-source-maps', 'dist/migrate.js']);
    // The same Job, and the same environment, whatever the topology (so one run below covers both).
    expect(job).toEqual(named(rendered.get('monolith')!, 'Job', 'shop-migrate'));
  });

  it.each(OVERLAYS)('every object %s renders is valid against the Kubernetes API schemas', async (overlay) => {
    const objects = rendered.get(overlay)!;
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      await expect(validate(object).then(() => 'valid'), `${object.kind} ${object.metadata.name}`).resolves.toBe('valid');
    }
  });

  it('the validator catches a seeded invalid object', async () => {
    const deployment = named(rendered.get('monolith')!, 'Deployment', 'shop-main');
    const stringPort = structuredClone(deployment);
    stringPort.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    await expect(validate(stringPort)).rejects.toThrow(/containerPort must be integer/);
    // A misspelled required field is a missing one.
    const misspelled = structuredClone(deployment);
    misspelled.spec.template.spec.contianers = misspelled.spec.template.spec.containers;
    delete misspelled.spec.template.spec.containers;
    await expect(validate(misspelled)).rejects.toThrow(/must have required property '?containers/);
    const badProbe = structuredClone(deployment);
    badProbe.spec.template.spec.containers[0].readinessProbe.httpGet = { path: '/ready', prot: 'http' };
    await expect(validate(badProbe)).rejects.toThrow(/must have required property '?port/);
  });

  describe.skipIf(!nats)(nats ? 'the app accepts each Deployment\'s environment' : 'the app accepts each Deployment\'s environment — SKIPPED: no NATS (set NATS_URL, or put nats-server on PATH)', () => {
    const databases: TestDatabase[] = [];
    const servers: ServerProcess[] = [];
    const streams: string[] = [];
    afterAll(async () => {
      await Promise.all(servers.map((server) => server.stop('SIGKILL')));
      for (const database of databases) await database.drop();
      for (const stream of streams) await deleteNatsStream(nats!.url, stream);
    });

    async function outsideFor(overlay: Overlay): Promise<Outside> {
      const database = await createTestDatabase(inject('pgAdminUrl'));
      databases.push(database);
      const id = `${overlay}_${randomBytes(4).toString('hex')}`;
      streams.push(`K8S_${id}`);
      return { databaseUrl: database.url, natsUrl: nats!.url, nats: { NATS_STREAM: `K8S_${id}`, NATS_SUBJECT_PREFIX: `k8s.${id}` } };
    }

    /**
     * Starts every Deployment of the overlay at once; with `job`, after migrating as the Job does.
     * Without it, the processes migrate what they host at start (the Job is belt and braces).
     */
    async function deploy(overlay: Overlay, job: boolean): Promise<Map<string, ServerProcess>> {
      const objects = rendered.get(overlay)!;
      const outside = await outsideFor(overlay);
      const deployments = byKind(objects, 'Deployment');
      const ports = new Map<string, number>();
      for (const deployment of deployments) ports.set(deployment.metadata.name, await freePort());

      if (job) {
        const migration = container(named(objects, 'Job', 'shop-migrate'));
        const migrated = await runMigrations(localEnv(containerEnv(objects, migration), outside, ports, 0, objects));
        expect(migrated.code, migrated.output).toBe(0);
        expect(migrated.output).toContain('migrations applied');
      }

      const started = await Promise.all(
        deployments.map(async (deployment) => {
          const env = containerEnv(objects, container(deployment));
          expect(['info', 'debug', 'trace'], `${deployment.metadata.name}: LOG_LEVEL must log "shop is serving"`).toContain(env.LOG_LEVEL);
          const server = await startServer(localEnv(env, outside, ports, ports.get(deployment.metadata.name)!, objects));
          servers.push(server);
          return [deployment.metadata.name, server] as const;
        }),
      );
      return new Map(started);
    }

    it('monolith: the Job migrates, the process serves, /ready is 200; on SIGTERM it drains (503, still serving) and exits within the grace period', async () => {
      const objects = rendered.get('monolith')!;
      const shop = (await deploy('monolith', true)).get('shop-main')!;
      expect((await fetch(`${shop.url}/ready`)).status).toBe(200);
      expect((await fetch(`${shop.url}/health`)).status).toBe(200);

      const deployment = named(objects, 'Deployment', 'shop-main');
      const signalled = Date.now();
      shop.child.kill('SIGTERM');
      let ready = 200;
      while (ready === 200 && Date.now() - signalled < 3_000) ready = (await fetch(`${shop.url}/ready`)).status;
      expect(ready, 'draining: /ready').toBe(503);
      expect((await fetch(`${shop.url}/health`)).status, 'draining: still serving').toBe(200);
      const exit = await shop.exited;
      const tookMs = Date.now() - signalled;
      expect(exit.code, shop.stderr()).toBe(0);
      const preStopMs = container(deployment).lifecycle.preStop.sleep.seconds * 1000;
      expect(preStopMs + tookMs).toBeLessThan(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000);
    }, 90_000);

    it('split: one process per module, started together on an empty database (each migrating what it hosts), each pointing at the others, and each /ready is 200', async () => {
      const processes = await deploy('split', false);
      expect([...processes.keys()].sort()).toEqual(SPLIT_PROCESSES);
      for (const [name, server] of processes) {
        expect((await fetch(`${server.url}/ready`)).status, name).toBe(200);
      }
      // A call that crosses processes, with the Secret's (placeholder) signing key: the catalog,
      // asked of orders' process, is forwarded to inventory's through INVENTORY_URL.
      const objects = rendered.get('split')!;
      const secret = containerEnv(objects, container(named(objects, 'Deployment', 'shop-orders'))).AUTH_JWT_SECRET!;
      const token = await signToken(secret, { sub: randomUUID(), roles: [] });
      const products = await fetch(`${processes.get('shop-orders')!.url}/api/products`, { headers: { authorization: `Bearer ${token}` } });
      expect(products.status, await products.clone().text()).toBe(200);
      expect(await products.json()).toEqual([]);
    }, 120_000);
  });
});
