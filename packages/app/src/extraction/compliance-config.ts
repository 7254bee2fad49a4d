import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ComplianceDeclaration, ComplianceDeclarations } from './evidence.ts';

export const COMPLIANCE_FILE = 'extraction.config.json';

/**
 * `extraction.config.json` at the repository root (docs/extraction.md):
 * `{ "<module>": { "compliance": "<requirement: why it applies>", "isolated": true | false } }`;
 * keys starting with `$` (e.g. `$comment`) are ignored. A malformed file is reported beside the
 * score, never silently read as "no requirement".
 */
export async function readComplianceConfig(root: string, modules: readonly string[]): Promise<ComplianceDeclarations> {
  let text: string;
  try {
    text = await readFile(path.join(root, COMPLIANCE_FILE), 'utf8');
  } catch {
    return { file: undefined, modules: {} };
  }
  try {
    return { file: COMPLIANCE_FILE, modules: parseComplianceConfig(JSON.parse(text), modules) };
  } catch (error) {
    return { file: COMPLIANCE_FILE, error: `${COMPLIANCE_FILE} is invalid: ${(error as Error).message}`, modules: {} };
  }
}

export function parseComplianceConfig(value: unknown, modules: readonly string[]): Record<string, ComplianceDeclaration> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('it must be an object keyed by module name');
  const declared: Record<string, ComplianceDeclaration> = {};
  for (const [module, entry] of Object.entries(value)) {
    if (module.startsWith('$')) continue;
    if (!modules.includes(module)) throw new Error(`"${module}" is not a module (known: ${modules.join(', ')})`);
    const { compliance, isolated } = (entry ?? {}) as Record<string, unknown>;
    if (typeof compliance !== 'string' || compliance.trim() === '') throw new Error(`${module}.compliance must say the requirement and why it applies`);
    if (typeof isolated !== 'boolean') throw new Error(`${module}.isolated must be true (hard: PCI, HIPAA, separate VPC) or false (soft: audit logging)`);
    declared[module] = { compliance: compliance.trim(), isolated };
  }
  return declared;
}
