/**
 * `@shop/platform/internals`: the pieces of the platform that the packages extending it build on
 * (`@shop/distribution`: remote calls, the control plane, the NATS bus), and that a module never
 * needs. The boundary rules forbid modules to import it.
 */
export { inTransaction } from './db/transaction.ts';
export { compileStrict, describeValidation } from './http/validation.ts';
export { instrumentedMethod } from './instrument.ts';
export { withCaller, wrapMethods } from './telemetry/module-traffic.ts';
export { propagationHeaders } from './telemetry/trace-context.ts';
export { handleEvents, isTracing, traceModuleCall } from './telemetry/tracing.ts';
