import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsForTests } from '@shop/platform/testing';
import { checkoutFlowSuite } from './flows/checkout-flow.ts';
import { MODULE_NAMES } from '../src/topology-config.ts';
import { REPO_ROOT, type Invocation } from './process.ts';
import { LAYOUTS, startTopology, type Layout, type RunningTopology } from './topology.ts';

/**
 * The promise: any module moves into its own process by configuration alone. The same HTTP
 * checkout flow, unchanged, passes in four topologies, each process a real child process of the
 * same build: all in one; orders alone + main; payments alone + main; one process per module.
 * Each topology has its own database and its own NATS stream and subjects.
 *
 * NATS is required: from NATS_URL (CI; unreachable is a failure) or a nats-server spawned from
 * PATH; without either the whole file is skipped, and says so in its name and on stderr.
 */
const nats = await startNatsForTests();
afterAll(() => nats?.stop());

const SKIPPED = 'SKIPPED: no NATS (set NATS_URL, or put nats-server on PATH)';
const topologies: Array<{ key: string; title: string; layout: Layout }> = [
  { key: 'a', title: LAYOUTS.oneProcess.name, layout: LAYOUTS.oneProcess },
  { key: 'b', title: LAYOUTS.ordersAlone.name, layout: LAYOUTS.ordersAlone },
  { key: 'c', title: LAYOUTS.paymentsAlone.name, layout: LAYOUTS.paymentsAlone },
  { key: 'd', title: LAYOUTS.onePerModule.name, layout: LAYOUTS.onePerModule },
];
/** How each topology's processes were started, for the "only configuration differs" check. */
const invocations = new Map<string, Invocation[]>();

describe.skipIf(!nats)(nats ? 'topologies' : `topologies — ${SKIPPED}`, () => {
  describe.each(topologies)('($key) $title', ({ key, layout }) => {
    let topology: RunningTopology | undefined;
    beforeAll(async () => {
      topology = await startTopology(layout, { nats: nats! });
      invocations.set(key, [...topology.processes.values()].map((started) => started.server.invocation));
    });
    afterAll(() => topology?.close());

    checkoutFlowSuite(() => topology!);

    it('serves from every process, each hosting what MODULES says (GET /api/admin/topology)', async () => {
      const t = topology!;
      for (const spec of layout.processes) {
        const res = await fetch(`${t.url(spec.name)}/api/admin/topology`, { headers: { authorization: `Bearer ${t.adminToken}` } });
        expect(res.status).toBe(200);
        const placements = ((await res.json()) as { this_process: { placements: Array<{ module: string; hosted: boolean; url: string | null }> } }).this_process.placements;
        for (const placement of placements) {
          const hosted = (spec.modules as readonly string[]).includes(placement.module);
          expect(placement.hosted, `${spec.name}: ${placement.module}`).toBe(hosted);
          if (!hosted) expect(placement.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        }
      }
    });
  });

  describe('only configuration differs', () => {
    it('every process of the four topologies ran the same entry point of the same build; only environment variables differ', () => {
      expect([...invocations.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
      const all = [...invocations.values()].flat();
      expect(all).toHaveLength(1 + 2 + 2 + MODULE_NAMES.length);
      const [first] = all;
      for (const invocation of all) {
        expect({ command: invocation.command, args: invocation.args, cwd: invocation.cwd }).toEqual({ command: first!.command, args: first!.args, cwd: first!.cwd });
      }
      expect(first!.args.at(-1)).toBe(path.join(REPO_ROOT, 'packages/app/src/main.ts'));

      // What may differ between processes: where modules run, and each run's own resources.
      const topologyVars = new RegExp(`^(MODULES|(${MODULE_NAMES.map((name) => name.toUpperCase()).join('|')})_URL)$`);
      const perRun = new Set(['PORT', 'DATABASE_URL', 'NATS_STREAM', 'NATS_SUBJECT_PREFIX', 'SMTP_URL']);
      const names = new Set(all.flatMap((invocation) => Object.keys(invocation.env)));
      const differing = [...names].filter((name) => new Set(all.map((invocation) => invocation.env[name])).size > 1);
      expect(differing.filter((name) => !topologyVars.test(name) && !perRun.has(name))).toEqual([]);
      // And within one topology, the processes share the database and the NATS stream.
      for (const [key, group] of invocations) {
        for (const name of ['DATABASE_URL', 'NATS_URL', 'NATS_STREAM', 'NATS_SUBJECT_PREFIX', 'SERVICE_SECRET', 'AUTH_JWT_SECRET']) {
          expect(new Set(group.map((invocation) => invocation.env[name])).size, `${key}: ${name}`).toBe(1);
        }
      }
    });
  });
});

describe('module sources know nothing of the topology', () => {
  const MODULE_DIRS = MODULE_NAMES;
  /** Each a sign that a module would find out where it, or another module, runs. */
  const FORBIDDEN: Array<[string, RegExp]> = [
    ['reads process.env', /process\s*\.\s*env|process\[\s*['"]env['"]\s*\]/],
    ['mentions MODULES', /\bMODULES\b/],
    ['mentions NATS', /\bnats/i],
    ['mentions where a module runs (<MODULE>_URL)', new RegExp(`\\b(${MODULE_DIRS.map((name) => name.toUpperCase()).join('|')})_URL\\b`)],
    ['mentions the shared database or broker (DATABASE_URL, NATS_URL)', /\b(DATABASE|NATS)_URL\b/],
    ['mentions SERVICE_SECRET', /\bSERVICE_SECRET\b/],
    ['mentions a *_SHADOW_URL or *_REMOTE_PERCENT variable', /_(SHADOW_URL|REMOTE_PERCENT)\b/],
  ];
  /**
   * A module's own settings (settings.ts: SMTP_URL, STRIPE_API_URL…) name the services it talks
   * to, read through the EnvReader the composition root hands it: not where anything of ours runs.
   */
  const ALLOWED = /\b(SMTP|STRIPE_API)_URL\b/g;

  it('the scan catches what it looks for', () => {
    const planted = ['const url = process.env.ORDERS_URL;', "read.url('INVENTORY_URL', ['http:'])", "read.url('DATABASE_URL', ['postgres:'])", "const hosted = read.list('MODULES');", "import { connect } from '@nats-io/transport-node';", 'new NatsBus({ url })', "if (env['PAYMENTS_URL'])", 'ORDERS_REMOTE_PERCENT'];
    for (const line of planted) expect(FORBIDDEN.some(([, pattern]) => pattern.test(line.replace(ALLOWED, ''))), line).toBe(true);
    expect(FORBIDDEN.some(([, pattern]) => pattern.test("email: 'email is not configured on this server (no SMTP_URL)'".replace(ALLOWED, '')))).toBe(false);
    expect(FORBIDDEN.some(([, pattern]) => pattern.test("const apiUrl = read.url('STRIPE_API_URL', ['https:']);".replace(ALLOWED, '')))).toBe(false);
  });

  it('no file under any module\'s packages/<module>/src reads process.env or mentions MODULES, NATS or a *_URL', async () => {
    const offences: string[] = [];
    let scanned = 0;
    for (const module of MODULE_DIRS) {
      const root = path.join(REPO_ROOT, 'packages', module, 'src');
      for (const file of await filesUnder(root)) {
        scanned += 1;
        const text = (await readFile(file, 'utf8')).replace(ALLOWED, '');
        text.split('\n').forEach((line, index) => {
          for (const [what, pattern] of FORBIDDEN) {
            if (pattern.test(line)) offences.push(`${path.relative(REPO_ROOT, file)}:${index + 1} ${what}: ${line.trim()}`);
          }
        });
      }
    }
    expect(scanned).toBeGreaterThan(20);
    expect(offences).toEqual([]);
  });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : Promise.resolve([path.join(dir, entry.name)]))));
  return nested.flat();
}
