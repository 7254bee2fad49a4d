/** Test helpers: real databases for tests, module test kits, scenarios, and waiting for what eventually happens. */
export { createTestDatabase, type TestDatabase } from './database.ts';
export { eventually } from './eventually.ts';
export { RecordingBus } from './recording-bus.ts';
export { Scenario, Stimulus, type Outcome } from './scenario.ts';
export { startModuleTestKit, type ModuleTestKit } from './module-kit.ts';
export { startNatsForTests, spawnNatsServer, deleteNatsStream, type TestNats } from './nats.ts';
export { expectModuleError, PlatformErrors, RFC3339, type ContractTarget, type ExpectedError } from './contract-target.ts';
