import { describe, expect, it } from 'vitest';
import {
  EXTRACT_AT,
  communicationIndependence,
  complianceIsolation,
  deploymentFrequency,
  independentScaling,
  scoreModule,
  teamOwnership,
} from '../src/extraction/criteria.ts';
import { parseComplianceConfig } from '../src/extraction/compliance-config.ts';
import { ownersOfModules, parseCodeowners } from '../src/extraction/codeowners.ts';
import type { ExtractionEvidence } from '../src/extraction/evidence.ts';
import { countCommits } from '../src/extraction/git-history.ts';
import { renderReport } from '../src/extraction/render.ts';

const MODULES = ['inventory', 'notifications', 'orders', 'payments'];

/** Evidence where nothing is known, to be filled in by each test. */
function evidence(overrides: Partial<ExtractionEvidence> = {}): ExtractionEvidence {
  return {
    modules: MODULES,
    window: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-08T00:00:00.000Z', hours: 168 },
    traffic: undefined,
    events: {},
    git: { available: false, reason: 'no git history: /x is not in a git repository' },
    owners: { file: undefined, modules: {} },
    compliance: { file: undefined, modules: {} },
    ...overrides,
  };
}

type Call = NonNullable<ExtractionEvidence['traffic']>['calls'][number];
const call = (caller: string, callee: string, calls: number, via: Call['via'] = 'in-process', method = 'getOrder'): Call => ({ caller, callee, method, via, calls });
const traffic = (calls: Call[], usage: { module: string; requests: number; cpuMicros: number }[] = []) => ({ calls, usage, processes: ['inventory+notifications+orders+payments'] });

describe('communication independence: synchronous calls with other modules against events', () => {
  it('scores 2 when at most 20% of interactions are synchronous', () => {
    const ev = evidence({ traffic: traffic([call('payments', 'orders', 2)]), events: { payments: { published: 6, consumed: 2 } } });
    const score = communicationIndependence('payments', ev);
    expect(score).toMatchObject({ score: 2, has_evidence: true });
    expect(score.evidence).toContain('2 synchronous calls with other modules (0 in, 2 out to orders 2)');
    expect(score.evidence).toContain('8 events (6 published, 2 handled)');
    expect(score.evidence).toContain('20% synchronous');
  });

  it('scores 1 at up to half, 0 above; calls in count as much as calls out', () => {
    const moderate = evidence({ traffic: traffic([call('payments', 'orders', 3), call('orders', 'inventory', 2)]), events: { orders: { published: 3, consumed: 2 } } });
    expect(communicationIndependence('orders', moderate)).toMatchObject({ score: 1 });
    expect(communicationIndependence('orders', moderate).evidence).toContain('5 synchronous calls with other modules (3 in from payments 3, 2 out to inventory 2)');
    const heavy = evidence({ traffic: traffic([call('payments', 'orders', 6)]), events: { orders: { published: 3, consumed: 2 } } });
    expect(communicationIndependence('orders', heavy)).toMatchObject({ score: 0, has_evidence: true });
    expect(communicationIndependence('orders', heavy).evidence).toContain('55% synchronous, heavy');
  });

  it('leaves out client requests (http), calls within the module, and the callee-side copy of remote calls', () => {
    const ev = evidence({
      traffic: traffic([call('http', 'orders', 100), call('orders', 'orders', 7), call('remote:payments', 'orders', 4, 'internal'), call('payments', 'orders', 4, 'remote')]),
      events: { orders: { published: 16, consumed: 0 } },
    });
    const score = communicationIndependence('orders', ev);
    expect(score.evidence).toContain('4 synchronous calls with other modules (4 in from payments 4, 0 out)');
    expect(score).toMatchObject({ score: 2 });
  });

  it('a module that served requests and talked to nobody is independent; one that did nothing has no evidence', () => {
    const idle = evidence({ traffic: traffic([], [{ module: 'inventory', requests: 12, cpuMicros: 1000 }]), events: { inventory: { published: 0, consumed: 0 } } });
    expect(communicationIndependence('inventory', idle)).toMatchObject({ score: 2, has_evidence: true });
    expect(communicationIndependence('notifications', idle)).toMatchObject({ score: 0, has_evidence: false });
    expect(communicationIndependence('orders', evidence())).toMatchObject({ score: 0, has_evidence: false, evidence: expect.stringMatching(/^no evidence: nothing recorded at run time/) });
  });
});

describe('independent scaling: share of requests and CPU against the mean of the others', () => {
  const usage = (orders: [number, number], rest: [number, number]) => [
    { module: 'orders', requests: orders[0], cpuMicros: orders[1] },
    ...['inventory', 'notifications', 'payments'].map((module) => ({ module, requests: rest[0], cpuMicros: rest[1] })),
  ];

  it('scores 0 under 2x, 1 from 2x (the lesson: 2-3x), 2 from 10x (the lesson: 10x+)', () => {
    expect(independentScaling('orders', evidence({ traffic: traffic([], usage([150, 1e6], [100, 1e6])) }))).toMatchObject({ score: 0 });
    expect(independentScaling('orders', evidence({ traffic: traffic([], usage([200, 1e6], [100, 1e6])) }))).toMatchObject({ score: 1 });
    expect(independentScaling('orders', evidence({ traffic: traffic([], usage([900, 1e6], [100, 1e6])) }))).toMatchObject({ score: 1 });
    expect(independentScaling('orders', evidence({ traffic: traffic([], usage([1000, 1e6], [100, 1e6])) }))).toMatchObject({ score: 2 });
  });

  it('takes the larger of the two: a CPU-heavy module scales apart even at an ordinary share of requests', () => {
    const score = independentScaling('orders', evidence({ traffic: traffic([], usage([100, 30e6], [100, 1e6])) }));
    expect(score).toMatchObject({ score: 2 });
    expect(score.evidence).toContain('25% of requests (100 of 400, 1.0x the mean of the others)');
    expect(score.evidence).toContain('91% of CPU time (30.00 s of 33.00 s, 30.0x the mean of the others)');
  });

  it('has no evidence without recorded usage, or with none in the window', () => {
    expect(independentScaling('orders', evidence())).toMatchObject({ score: 0, has_evidence: false });
    expect(independentScaling('orders', evidence({ traffic: traffic([], []) }))).toMatchObject({ score: 0, has_evidence: false });
  });
});

describe('deployment frequency: commits to the module folder against the others, and alone', () => {
  const git = (modules: Record<string, { commits: number; solo: number }>) => ({ available: true as const, days: 90, shallow: false, modules });
  const rest = { inventory: { commits: 3, solo: 0 }, notifications: { commits: 3, solo: 0 }, orders: { commits: 3, solo: 0 } };

  it('scores 2 at 3x the others with most commits alone, 1 at 1.5x or mostly alone, 0 otherwise', () => {
    expect(deploymentFrequency('payments', evidence({ git: git({ ...rest, payments: { commits: 9, solo: 5 } }) }))).toMatchObject({ score: 2 });
    expect(deploymentFrequency('payments', evidence({ git: git({ ...rest, payments: { commits: 9, solo: 1 } }) }))).toMatchObject({ score: 1 });
    expect(deploymentFrequency('payments', evidence({ git: git({ ...rest, payments: { commits: 2, solo: 1 } }) }))).toMatchObject({ score: 1 });
    const together = deploymentFrequency('payments', evidence({ git: git({ ...rest, payments: { commits: 3, solo: 0 } }) }));
    expect(together).toMatchObject({ score: 0, has_evidence: true });
    expect(together.evidence).toBe(
      "3 commits to packages/payments/ in the last 90 days (1.0 per 30 days, 1.0x the others' mean of 1.0), 0 of them touching only this module (0%): changes with everything else",
    );
  });

  it('a folder nobody touched scores 0; no git scores 0 as no evidence, with the reason', () => {
    expect(deploymentFrequency('payments', evidence({ git: git(rest) }))).toMatchObject({ score: 0, has_evidence: true });
    expect(deploymentFrequency('payments', evidence())).toEqual({
      criterion: 'deployment_frequency',
      score: 0,
      has_evidence: false,
      evidence: 'no evidence: no git history: /x is not in a git repository',
    });
  });

  it('counts commits per module from git log, and which ones touched that module only', () => {
    const log = ['', 'aaa\n\npackages/payments/src/a.ts\npackages/payments/test/b.ts\n', 'bbb\n\npackages/payments/x.ts\npackages/orders/y.ts\npackages/platform/z.ts\n', 'ccc\n\npackages/app/src/app.ts\n'].join('\0');
    expect(countCommits(log, MODULES)).toEqual({
      inventory: { commits: 0, solo: 0 },
      notifications: { commits: 0, solo: 0 },
      orders: { commits: 1, solo: 0 },
      payments: { commits: 2, solo: 1 },
    });
  });
});

describe('team ownership: CODEOWNERS', () => {
  const owned = (text: string) => evidence({ owners: { file: '.github/CODEOWNERS', modules: ownersOfModules(parseCodeowners(text), MODULES) } });

  it('scores 2 for a dedicated owner, 1 for owners shared with some modules, 0 for one team on everything', () => {
    const ev = owned(['* @shop/core', '/packages/payments/ @shop/payments @shop/core', 'packages/orders/ @shop/checkout', 'packages/inventory/** @shop/checkout'].join('\n'));
    const payments = teamOwnership('payments', ev);
    expect(payments).toMatchObject({ score: 2 });
    expect(payments.evidence).toBe('owned by @shop/core, @shop/payments (.github/CODEOWNERS); @shop/payments owns no other module (shared: @shop/core): a dedicated team');
    expect(teamOwnership('orders', ev)).toMatchObject({ score: 1, evidence: expect.stringContaining('@shop/checkout also owns inventory') });
    const everything = owned('* @shop/core');
    expect(teamOwnership('orders', everything)).toMatchObject({ score: 0, has_evidence: true, evidence: expect.stringContaining('the same team works on everything') });
  });

  it('has no evidence without a file, or when no rule owns the folder (the last matching rule wins)', () => {
    expect(teamOwnership('orders', evidence())).toMatchObject({ score: 0, has_evidence: false });
    expect(teamOwnership('orders', owned('* @shop/core\npackages/orders/'))).toMatchObject({ score: 0, has_evidence: false });
  });

  it('matches patterns as GitHub does: anchored with a slash, at any depth without, ** across folders', () => {
    const owners = ownersOfModules(parseCodeowners('# comment\n*.md @docs\nsrc/ @src-team\n/packages/orders/contract/ @api # inline comment\n**/payments/** @pay'), MODULES);
    expect(owners).toEqual({ inventory: ['@src-team'], notifications: ['@src-team'], orders: ['@api', '@src-team'], payments: ['@pay'] });
  });
});

describe('compliance isolation: extraction.config.json', () => {
  const declared = (config: unknown) => evidence({ compliance: { file: 'extraction.config.json', modules: parseComplianceConfig(config, MODULES) } });

  it('scores 2 for a hard requirement, 1 for a soft one, 0 for none, stating the reason', () => {
    const ev = declared({ $comment: 'ignored', payments: { compliance: 'PCI DSS: card data', isolated: true }, orders: { compliance: 'SOX: audit logging of order changes', isolated: false } });
    expect(complianceIsolation('payments', ev)).toMatchObject({ score: 2, evidence: 'hard requirement (isolated: true in extraction.config.json): PCI DSS: card data' });
    expect(complianceIsolation('orders', ev)).toMatchObject({ score: 1, evidence: expect.stringContaining('SOX: audit logging') });
    expect(complianceIsolation('inventory', ev)).toMatchObject({ score: 0, has_evidence: true });
    expect(complianceIsolation('inventory', evidence())).toMatchObject({ score: 0, evidence: expect.stringContaining('no extraction.config.json') });
  });

  it('refuses a malformed file with what to fix, and says so beside the score', () => {
    expect(() => parseComplianceConfig({ billing: { compliance: 'x', isolated: true } }, MODULES)).toThrow('"billing" is not a module');
    expect(() => parseComplianceConfig({ payments: { compliance: 'PCI', isolated: 'yes' } }, MODULES)).toThrow('payments.isolated must be true');
    expect(() => parseComplianceConfig({ payments: { isolated: true } }, MODULES)).toThrow('payments.compliance must say');
    const broken = evidence({ compliance: { file: 'extraction.config.json', error: 'extraction.config.json is invalid: Unexpected token', modules: {} } });
    expect(complianceIsolation('payments', broken)).toMatchObject({ score: 0, has_evidence: false, evidence: 'no evidence: extraction.config.json is invalid: Unexpected token' });
  });
});

describe('the total and the recommendation', () => {
  /** payments: comm 2, scaling 1, deployment 1, ownership 0 or 2, compliance 2. */
  function paymentsEvidence(withOwners: boolean): ExtractionEvidence {
    return evidence({
      traffic: traffic(
        [call('payments', 'orders', 1)],
        [
          { module: 'payments', requests: 300, cpuMicros: 1e6 },
          { module: 'orders', requests: 100, cpuMicros: 1e6 },
          { module: 'inventory', requests: 100, cpuMicros: 1e6 },
          { module: 'notifications', requests: 100, cpuMicros: 1e6 },
        ],
      ),
      events: { payments: { published: 8, consumed: 1 } },
      git: { available: true, days: 30, shallow: false, modules: { payments: { commits: 2, solo: 0 }, orders: { commits: 1, solo: 0 }, inventory: { commits: 1, solo: 0 }, notifications: { commits: 1, solo: 0 } } },
      owners: withOwners ? { file: 'CODEOWNERS', modules: { payments: ['@pay'], orders: ['@core'], inventory: ['@core'], notifications: ['@core'] } } : { file: undefined, modules: {} },
      compliance: { file: 'extraction.config.json', modules: { payments: { compliance: 'PCI DSS', isolated: true } } },
    });
  }

  it(`recommends extraction at ${EXTRACT_AT}/10 or more`, () => {
    const score = scoreModule('payments', paymentsEvidence(true));
    expect(score.criteria.map((criterion) => [criterion.criterion, criterion.score])).toEqual([
      ['communication_independence', 2],
      ['independent_scaling', 1],
      ['deployment_frequency', 1],
      ['team_ownership', 2],
      ['compliance_isolation', 2],
    ]);
    expect(score).toMatchObject({ total: 8, recommend_extraction: true, recommendation: 'extract: 8/10, at least 6' });
  });

  it('does not recommend below 6, and names the criteria it had no evidence for', () => {
    const score = scoreModule('payments', paymentsEvidence(false));
    expect(score).toMatchObject({ total: 6, recommend_extraction: true });
    const bare = scoreModule('payments', evidence({ compliance: { file: 'extraction.config.json', modules: { payments: { compliance: 'PCI DSS', isolated: true } } } }));
    expect(bare).toMatchObject({ total: 2, recommend_extraction: false });
    expect(bare.recommendation).toBe(
      'keep in the monolith: 2/10, below 6 (no evidence for communication_independence, independent_scaling, deployment_frequency, team_ownership)',
    );
  });

  it('at exactly 5 it keeps the module', () => {
    const ev = paymentsEvidence(false);
    const five = scoreModule('payments', { ...ev, git: { available: false, reason: 'no git' } });
    expect(five).toMatchObject({ total: 5, recommend_extraction: false });
  });

  it('renders a table and each score beside its evidence', () => {
    const text = renderReport({ generated_at: '2026-01-08T00:00:00.000Z', window: evidence().window, extract_at: 6, modules: [scoreModule('payments', paymentsEvidence(true))] });
    expect(text).toMatch(/payments\s+2\s+1\s+1\s+2\s+2\s+8\/10\s+extract: 8\/10/);
    expect(text).toContain('  compliance isolation         2  hard requirement (isolated: true in extraction.config.json): PCI DSS');
  });
});
