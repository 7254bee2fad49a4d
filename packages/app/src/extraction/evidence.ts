import type { EventCounts, RecordedTraffic } from '@shop/distribution';

/**
 * Everything the extraction report scores, gathered once (gather.ts) and scored by pure
 * functions (criteria.ts), so tests can feed known evidence. A missing piece is `undefined` or
 * carries the reason it is missing; it is never a guess.
 */
export interface ExtractionEvidence {
  readonly modules: readonly string[];
  readonly window: { readonly from: string; readonly to: string; readonly hours: number };
  /** Run-time counts kept in the database (platform.module_calls, platform.module_usage); undefined: none recorded. */
  readonly traffic: RecordedTraffic | undefined;
  /** Per module, events published (outbox) and handled (inbox) in the window; undefined: no such tables. */
  readonly events: Readonly<Record<string, EventCounts | undefined>>;
  readonly git: GitHistory;
  readonly owners: Ownership;
  readonly compliance: ComplianceDeclarations;
}

/** Commits touching each module's folder (`packages/<module>/`) over the last `days` days. */
export type GitHistory =
  | { readonly available: false; readonly reason: string }
  | {
      readonly available: true;
      readonly days: number;
      /** A shallow clone sees only part of the history: said beside the score. */
      readonly shallow: boolean;
      /** `commits`: touching the folder; `solo`: of those, touching no other module's folder. */
      readonly modules: Readonly<Record<string, { readonly commits: number; readonly solo: number }>>;
    };

/** Owners of each module's folder per CODEOWNERS; `file` undefined when there is none. */
export interface Ownership {
  readonly file: string | undefined;
  readonly modules: Readonly<Record<string, readonly string[]>>;
}

/** What extraction.config.json declares, per module; `error` when the file is unreadable. */
export interface ComplianceDeclarations {
  readonly file: string | undefined;
  readonly error?: string;
  readonly modules: Readonly<Record<string, ComplianceDeclaration>>;
}

export interface ComplianceDeclaration {
  /** The requirement and why it applies, e.g. "PCI DSS: card data handling". */
  readonly compliance: string;
  /** True: a hard requirement to isolate (PCI, HIPAA, separate VPC); false: a soft one (audit logging). */
  readonly isolated: boolean;
}
