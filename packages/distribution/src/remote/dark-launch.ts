/** The path out of the process, step by step: shadow the reads of a copy, then switch traffic to it. */
export { shadowApi, type ShadowOptions } from './shadow.ts';
export { splitApi, type SplitOptions } from './traffic-split.ts';
export { RemotePercent } from './remote-percent.ts';
export { bucketOf, stickyKeyOf } from './sticky-key.ts';
