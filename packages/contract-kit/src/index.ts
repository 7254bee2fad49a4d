export { IdempotencyKeyReused, ModuleError, isModuleError, type ErrorSpec } from './errors.ts';
export type { EventEnvelope, EventSpec } from './events.ts';
export { defineEvent } from './events.ts';
export { IDEMPOTENCY_KEY_RULE, IdempotencyKey, FreeText, Uuid } from './schemas.ts';
export { PAGE_SIZE, PageQuery, type PageResult } from './pagination.ts';
export { EDGE, type AccessTable, type MethodAccess, type MethodKind, type MethodTable } from './methods.ts';
export { defineContract, type ApiOf, type ModuleContract } from './contract.ts';
