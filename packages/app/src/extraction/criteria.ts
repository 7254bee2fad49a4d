import type { ExtractionEvidence } from './evidence.ts';

/**
 * The lesson's decision framework ("When to Extract"), scored from evidence: five criteria,
 * 0–2 each, extract at 6 or more of 10. Where the lesson gives numbers (scaling: 2–3x is 1,
 * 10x+ is 2) they are used as they are; where it gives words only, the thresholds below are
 * ours, named as constants and explained in docs/extraction.md. No evidence scores 0, and says so.
 */
export const EXTRACT_AT = 6;

export const THRESHOLDS = {
  /** Share of a module's interactions that are synchronous calls (the rest: events). */
  communication: { minimal: 0.2, moderate: 0.5 },
  /** Load relative to the mean of the other modules (the lesson's "2-3x" and "10x+"). */
  scaling: { somewhat: 2, dramatically: 10 },
  /** Change rate relative to the mean of the other modules, and share of commits touching it alone. */
  deployment: { often: 1.5, muchMoreOften: 3, alone: 0.5 },
} as const;

export type Criterion = 'communication_independence' | 'independent_scaling' | 'deployment_frequency' | 'team_ownership' | 'compliance_isolation';
export type Score = 0 | 1 | 2;

export interface CriterionScore {
  readonly criterion: Criterion;
  readonly score: Score;
  /** False when the score is 0 for want of evidence. */
  readonly has_evidence: boolean;
  /** The evidence in one sentence, with its numbers. */
  readonly evidence: string;
}

export interface ModuleScore {
  readonly module: string;
  readonly criteria: CriterionScore[];
  readonly total: number;
  readonly recommend_extraction: boolean;
  readonly recommendation: string;
}

export interface ExtractionReport {
  readonly generated_at: string;
  readonly window: ExtractionEvidence['window'];
  readonly extract_at: number;
  readonly modules: ModuleScore[];
}

export function scoreModules(evidence: ExtractionEvidence, now = new Date()): ExtractionReport {
  return {
    generated_at: now.toISOString(),
    window: evidence.window,
    extract_at: EXTRACT_AT,
    modules: evidence.modules.map((module) => scoreModule(module, evidence)),
  };
}

export function scoreModule(module: string, evidence: ExtractionEvidence): ModuleScore {
  const criteria = [
    communicationIndependence(module, evidence),
    independentScaling(module, evidence),
    deploymentFrequency(module, evidence),
    teamOwnership(module, evidence),
    complianceIsolation(module, evidence),
  ];
  const total = criteria.reduce((sum, criterion) => sum + criterion.score, 0);
  const missing = criteria.filter((criterion) => !criterion.has_evidence).map((criterion) => criterion.criterion);
  const recommend = total >= EXTRACT_AT;
  const verdict = recommend ? `extract: ${total}/10, at least ${EXTRACT_AT}` : `keep in the monolith: ${total}/10, below ${EXTRACT_AT}`;
  return {
    module,
    criteria,
    total,
    recommend_extraction: recommend,
    recommendation: missing.length > 0 ? `${verdict} (no evidence for ${missing.join(', ')})` : verdict,
  };
}

const scored = (criterion: Criterion, score: Score, evidence: string): CriterionScore => ({ criterion, score, has_evidence: true, evidence });
const noEvidence = (criterion: Criterion, why: string): CriterionScore => ({ criterion, score: 0, has_evidence: false, evidence: `no evidence: ${why}` });

/** Synchronous calls into and out of the module (other modules only) against the events it publishes and handles. */
export function communicationIndependence(module: string, evidence: ExtractionEvidence): CriterionScore {
  const criterion = 'communication_independence';
  const events = evidence.events[module];
  const traffic = evidence.traffic;
  if (!traffic && !events) return noEvidence(criterion, `nothing recorded at run time, and no outbox or inbox tables of ${module}`);
  // Calls as their callers counted them: `internal` rows are the callee's view of `remote` ones.
  const between = (traffic?.calls ?? []).filter((row) => row.via !== 'internal' && row.caller !== 'http' && row.caller !== row.callee);
  const into = tally(between.filter((row) => row.callee === module).map((row) => [row.caller, row.calls]));
  const outOf = tally(between.filter((row) => row.caller === module).map((row) => [row.callee, row.calls]));
  const sync = sum(into) + sum(outOf);
  const published = events?.published ?? 0;
  const consumed = events?.consumed ?? 0;
  const interactions = sync + published + consumed;
  const requests = traffic?.usage.find((row) => row.module === module)?.requests ?? 0;
  const facts =
    `${sync} synchronous call${plural(sync)} with other modules (${sum(into)} in${detail(into, 'from')}, ${sum(outOf)} out${detail(outOf, 'to')})` +
    ` against ${published + consumed} event${plural(published + consumed)} (${published} published, ${consumed} handled)${events ? '' : ' (no outbox/inbox tables)'}` +
    ` in ${hours(evidence)}`;
  if (interactions === 0) {
    if (requests === 0) return noEvidence(criterion, `no calls, events or requests of ${module} in ${hours(evidence)}`);
    return scored(criterion, 2, `${facts}, while serving ${requests} request${plural(requests)}: no communication with other modules`);
  }
  const share = sync / interactions;
  const { minimal, moderate } = THRESHOLDS.communication;
  const verdict =
    share <= minimal
      ? [2, `minimal (synchronous at most ${percent(minimal)})`]
      : share <= moderate
        ? [1, `moderate (synchronous at most ${percent(moderate)})`]
        : [0, `heavy (synchronous over ${percent(moderate)})`];
  return scored(criterion, verdict[0] as Score, `${facts}: ${percent(share)} synchronous, ${verdict[1]}`);
}

/** The module's share of requests and of CPU time, against the mean of the other modules. */
export function independentScaling(module: string, evidence: ExtractionEvidence): CriterionScore {
  const criterion = 'independent_scaling';
  const traffic = evidence.traffic;
  if (!traffic) return noEvidence(criterion, 'no requests or CPU time recorded (platform.module_usage is empty or missing)');
  const usage = (name: string) => traffic.usage.find((row) => row.module === name) ?? { requests: 0, cpuMicros: 0 };
  const others = evidence.modules.filter((name) => name !== module);
  const dimensions = [
    { name: 'requests', of: (name: string) => usage(name).requests, show: (value: number) => `${value}` },
    { name: 'CPU time', of: (name: string) => usage(name).cpuMicros, show: (value: number) => `${(value / 1e6).toFixed(2)} s` },
  ].flatMap((dimension) => {
    const mine = dimension.of(module);
    const total = mine + others.reduce((acc, name) => acc + dimension.of(name), 0);
    if (total === 0) return [];
    const meanOfOthers = others.length > 0 ? (total - mine) / others.length : 0;
    const ratio = meanOfOthers === 0 ? (mine > 0 ? Infinity : 0) : mine / meanOfOthers;
    return [{ ratio, text: `${percent(mine / total)} of ${dimension.name} (${dimension.show(mine)} of ${dimension.show(total)}, ${versus(ratio, 'the mean of the others')})` }];
  });
  if (dimensions.length === 0) return noEvidence(criterion, `no requests or CPU time recorded for any module in ${hours(evidence)}`);
  const ratio = Math.max(...dimensions.map((dimension) => dimension.ratio));
  const { somewhat, dramatically } = THRESHOLDS.scaling;
  const verdict: [Score, string] =
    ratio >= dramatically
      ? [2, `dramatically different load (${dramatically}x or more)`]
      : ratio >= somewhat
        ? [1, `somewhat different load (${somewhat}x or more)`]
        : [0, ratio < 1 ? 'less load than the others: nothing to scale apart' : `about the same load as the others (under ${somewhat}x)`];
  return scored(criterion, verdict[0], `${dimensions.map((dimension) => dimension.text).join(' and ')} in ${hours(evidence)}: ${verdict[1]}`);
}

/** How often the module's folder changes against the others, and how often alone (git log). */
export function deploymentFrequency(module: string, evidence: ExtractionEvidence): CriterionScore {
  const criterion = 'deployment_frequency';
  const git = evidence.git;
  if (!git.available) return noEvidence(criterion, git.reason);
  const rate = (commits: number) => (commits * 30) / git.days;
  const mine = git.modules[module] ?? { commits: 0, solo: 0 };
  const others = evidence.modules.filter((name) => name !== module);
  const othersRate = others.length > 0 ? others.reduce((acc, name) => acc + rate(git.modules[name]?.commits ?? 0), 0) / others.length : 0;
  const shallow = git.shallow ? ' (shallow clone: part of the history only)' : '';
  const window = `in the last ${git.days} days${shallow}`;
  if (mine.commits === 0) return scored(criterion, 0, `no commits to packages/${module}/ ${window} (the others: ${othersRate.toFixed(1)} per 30 days): it does not change on a schedule of its own`);
  const ratio = othersRate === 0 ? Infinity : rate(mine.commits) / othersRate;
  const alone = mine.solo / mine.commits;
  const { often, muchMoreOften, alone: aloneShare } = THRESHOLDS.deployment;
  const verdict: [Score, string] =
    ratio >= muchMoreOften && alone >= aloneShare
      ? [2, `changes far more often than the others (${muchMoreOften}x or more), mostly on its own`]
      : ratio >= often || alone >= aloneShare
        ? [1, alone >= aloneShare ? 'often changes on its own: occasionally needs independent deploys' : `changes more often than the others (${often}x or more)`]
        : [0, 'changes with everything else'];
  return scored(
    criterion,
    verdict[0],
    `${mine.commits} commit${plural(mine.commits)} to packages/${module}/ ${window} (${rate(mine.commits).toFixed(1)} per 30 days, ${versus(ratio, `the others' mean of ${othersRate.toFixed(1)}`)}), ` +
      `${mine.solo} of them touching only this module (${percent(alone)}): ${verdict[1]}`,
  );
}

/** Who owns the module's folder per CODEOWNERS, and whether they own other modules too. */
export function teamOwnership(module: string, evidence: ExtractionEvidence): CriterionScore {
  const criterion = 'team_ownership';
  const { file, modules } = evidence.owners;
  if (!file) return noEvidence(criterion, 'no CODEOWNERS file (looked in .github/, the root and docs/)');
  const mine = modules[module] ?? [];
  if (mine.length === 0) return noEvidence(criterion, `${file} names no owner of packages/${module}/`);
  const others = evidence.modules.filter((name) => name !== module);
  const ownsOther = (owner: string) => others.filter((name) => (modules[name] ?? []).includes(owner));
  const dedicated = mine.filter((owner) => ownsOther(owner).length === 0);
  const owners = `owned by ${mine.join(', ')} (${file})`;
  if (dedicated.length > 0) {
    const shared = mine.filter((owner) => !dedicated.includes(owner));
    return scored(criterion, 2, `${owners}; ${dedicated.join(', ')} own${dedicated.length === 1 ? 's' : ''} no other module${shared.length ? ` (shared: ${shared.join(', ')})` : ''}: a dedicated team`);
  }
  const everywhere = others.length > 0 && mine.every((owner) => ownsOther(owner).length === others.length);
  if (everywhere) return scored(criterion, 0, `${owners}, who own${mine.length === 1 ? 's' : ''} every other module too: the same team works on everything`);
  const sharing = mine.map((owner) => `${owner} also owns ${ownsOther(owner).join(', ')}`).join('; ');
  return scored(criterion, 1, `${owners}; ${sharing}: ownership shared with some other modules`);
}

/** What extraction.config.json declares for the module, with its reason. */
export function complianceIsolation(module: string, evidence: ExtractionEvidence): CriterionScore {
  const criterion = 'compliance_isolation';
  const { file, error, modules } = evidence.compliance;
  if (error) return noEvidence(criterion, error);
  if (!file) return scored(criterion, 0, 'no extraction.config.json: no compliance requirement declared for any module');
  const declared = modules[module];
  if (!declared) return scored(criterion, 0, `${file} declares no compliance requirement for ${module}`);
  return declared.isolated
    ? scored(criterion, 2, `hard requirement (isolated: true in ${file}): ${declared.compliance}`)
    : scored(criterion, 1, `soft requirement (isolated: false in ${file}): ${declared.compliance}`);
}

function tally(entries: readonly (readonly [string, number])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [key, count] of entries) counts.set(key, (counts.get(key) ?? 0) + count);
  return counts;
}

const sum = (counts: ReadonlyMap<string, number>) => [...counts.values()].reduce((acc, n) => acc + n, 0);
const detail = (counts: ReadonlyMap<string, number>, word: string) =>
  counts.size === 0 ? '' : ` ${word} ${[...counts].sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name} ${n}`).join(', ')}`;
const plural = (n: number) => (n === 1 ? '' : 's');
const percent = (share: number) => `${Math.round(share * 100)}%`;
const versus = (ratio: number, others: string) => (Number.isFinite(ratio) ? `${ratio.toFixed(1)}x ${others}` : `${others} being 0`);
const hours = (evidence: ExtractionEvidence) => `the last ${evidence.window.hours} h`;
