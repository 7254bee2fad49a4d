import { ModuleError } from '@shop/contract-kit';
import type { PaymentsApi } from '@shop/payments-contract';
import type { ModuleInstance } from '@shop/platform';
import { startModuleTestKit, type ModuleTestKit } from '@shop/platform/testing';
import { createPaymentsModule, paymentsMigrations, type PaymentProvider } from '../../src/index.ts';
import { ControlledProvider } from './controlled-provider.ts';
import { FakeOrders } from './fake-orders.ts';
import { providerFixture, type ProviderFixture, type ProviderKind } from './providers.ts';

/** The payments module on a real database, with a fake orders module and a provider to watch. */
export interface PaymentsHarness {
  readonly kit: ModuleTestKit;
  readonly fixture: ProviderFixture;
  readonly provider: ControlledProvider;
  readonly orders: FakeOrders;
  readonly module: ModuleInstance<PaymentsApi>;
  readonly api: PaymentsApi;
  /**
   * Another instance of the module on the same database, as after a restart: not subscribed to
   * events (the running one is), but with its outbox and reconciler running. Stopped by `stop()`.
   */
  restart(options?: { provider?: PaymentProvider; reconcileAfterMs?: number }): Promise<ModuleInstance<PaymentsApi>>;
  /** Stops the instances `restart` made (so one test's reconciler does not do the next test's work). */
  stopRestarted(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPaymentsHarness(kind: ProviderKind): Promise<PaymentsHarness> {
  const kit = await startModuleTestKit([paymentsMigrations]);
  const fixture = await providerFixture(kind);
  const provider = new ControlledProvider(fixture.provider);
  const orders = new FakeOrders();
  const module = await kit.run(createPaymentsModule({ ...kit.deps('payments'), orders, provider }));
  const restarted: ModuleInstance[] = [];
  const stopRestarted = async () => {
    for (const instance of restarted.splice(0)) await instance.stop();
  };
  return {
    kit,
    fixture,
    provider,
    orders,
    module,
    api: module.api,
    async restart(options = {}) {
      const again = createPaymentsModule({
        ...kit.deps('payments'),
        orders,
        provider: options.provider ?? fixture.provider,
        reconcileAfterMs: options.reconcileAfterMs ?? 0,
        reconcileIntervalMs: 100,
      });
      await again.start();
      restarted.push(again);
      return again;
    },
    stopRestarted,
    async stop() {
      await stopRestarted();
      await kit.stop();
      await fixture.close();
    },
  };
}

/** Awaits `promise`, expecting a ModuleError, and returns it for closer checks. */
export async function moduleErrorOf(promise: Promise<unknown>): Promise<ModuleError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ModuleError) return error;
    throw error;
  }
  throw new Error('expected a ModuleError, but the call succeeded');
}
