/**
 * `@shop/distribution`: the machinery for leaving the process, which only the composition root
 * uses and no module imports (the boundary rules say so): the remote client derived from a
 * contract and the `/internal` routes serving it, the one wrapper every hand-over gets, the
 * traffic split and the shadow, the control plane (switches, replicas, rollouts), the traffic
 * recording the extraction report reads, and (`@shop/distribution/nats`) the NATS JetStream bus.
 */
export { boundaryApi, type CallSite } from './boundary.ts';
export { TrafficRecorder, ensureTrafficTables, readRecentTraffic, readTraffic, writeSnapshot, type RecentTraffic, type RecordedTraffic, type TrafficRecorderOptions } from './telemetry/traffic-store.ts';
export { readEventCounts, readEventTotals, type EventCounts, type EventTotals } from './telemetry/event-counts.ts';
export { ServiceCredential } from './remote/service-auth.ts';
export { callingModule, handedTo } from './remote/calling-module.ts';
export { RemoteModule, type RemoteModuleOptions } from './remote/remote-module.ts';
export { remoteApi } from './remote/remote-api.ts';
export { internalRoutes, type ExposedModule } from './remote/rpc-routes.ts';
export { shadowApi, splitApi, RemotePercent, bucketOf, stickyKeyOf, type ShadowOptions, type SplitOptions } from './remote/dark-launch.ts';
export { ControlPlane, type ControlPlaneOptions, type ModuleSwitch, type RolloutRequest } from './control/control-plane.ts';
export { RolloutWatch } from './control/rollout-watch.ts';
export { DEFAULT_LIMITS, judge, type RolloutLimits, type RolloutDecision, type StepStats } from './control/rollout-rules.ts';
export type { ReplicaView, RolloutView, SwitchView } from './control/control-reads.ts';
export { ShadowSwitch } from './control/shadow-switch.ts';
export type { MismatchView } from './control/control-reads.ts';
export { PERSONAL_FIELDS, redact } from './remote/redact.ts';
export type { ShadowMismatch } from './remote/shadow.ts';