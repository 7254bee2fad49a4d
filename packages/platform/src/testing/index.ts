/** Test helpers: real databases for tests, and waiting for what eventually happens. */
export { createTestDatabase, type TestDatabase } from './database.ts';
export { eventually } from './eventually.ts';
