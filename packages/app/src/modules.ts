import { inventoryModule } from '@shop/inventory';
import { notificationsModule } from '@shop/notifications';
import { ordersModule } from '@shop/orders';
import { paymentsModule } from '@shop/payments';
import { reviewsModule } from '@shop/reviews';
import type { ApiOf } from '@shop/contract-kit';
import type { ModuleDefinition } from '@shop/platform';
import { MODULE_NAMES, type ModuleName } from './topology-config.ts';

/**
 * Every module of the system, declared once in its own package: the only list the composition
 * root, the migrations and the internal routes iterate. A new module is one line here and its
 * name in MODULE_NAMES (the topology reads names before any module loads); `npm run new-module`
 * writes both.
 */
export const MODULES = {
  orders: ordersModule,
  inventory: inventoryModule,
  payments: paymentsModule,
  notifications: notificationsModule,
  reviews: reviewsModule,
} as const satisfies { readonly [M in ModuleName]: ModuleDefinition };

/** Every module's interface as this process sees it: local, remote, shadowed or switched. */
export type ModuleApis = { [M in ModuleName]: ApiOf<(typeof MODULES)[M]['contract']> };

/** Each module's OpenAPI tag: its name, and what its contract says it does. */
export const MODULE_TAGS = MODULE_NAMES.map((name) => ({ name, description: MODULES[name].contract.description }));
