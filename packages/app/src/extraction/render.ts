import type { Criterion, ExtractionReport } from './criteria.ts';

const LABELS: Record<Criterion, string> = {
  communication_independence: 'communication independence',
  independent_scaling: 'independent scaling',
  deployment_frequency: 'deployment frequency',
  team_ownership: 'team ownership',
  compliance_isolation: 'compliance isolation',
};
const SHORT: Record<Criterion, string> = {
  communication_independence: 'comm',
  independent_scaling: 'scale',
  deployment_frequency: 'deploy',
  team_ownership: 'owners',
  compliance_isolation: 'compl',
};

/** The report as a terminal reads it: a table of scores, then each score with its evidence. */
export function renderReport(report: ExtractionReport): string {
  const criteria = (report.modules[0]?.criteria ?? []).map((score) => score.criterion);
  const width = Math.max(6, ...report.modules.map((module) => module.module.length));
  const header = ['module'.padEnd(width), ...criteria.map((criterion) => SHORT[criterion].padStart(6)), 'total'.padStart(6), '  recommendation'].join(' ');
  const rows = report.modules.map((module) =>
    [module.module.padEnd(width), ...module.criteria.map((score) => `${score.score}${score.has_evidence ? ' ' : '?'}`.padStart(6)), `${module.total}/10`.padStart(6), `  ${module.recommendation}`].join(' '),
  );
  const lines = [
    `Extraction report: run-time window ${report.window.from} to ${report.window.to} (${report.window.hours} h); extract at ${report.extract_at}/10 or more`,
    '',
    header,
    ...rows,
    '',
    '(? = no evidence, scored 0)',
  ];
  for (const module of report.modules) {
    lines.push('', `${module.module}: ${module.recommendation}`);
    for (const score of module.criteria) lines.push(`  ${LABELS[score.criterion].padEnd(28)} ${score.score}  ${score.evidence}`);
  }
  return `${lines.join('\n')}\n`;
}
