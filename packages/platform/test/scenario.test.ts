import { describe, expect, it } from 'vitest';
import { RecordingBus, Scenario } from '@shop/platform/testing';
import { WidgetCreated } from './support.ts';

/** The Scenario helper must fail loudly when what a test waits for does not happen. */
describe('Scenario', () => {
  const scenario = () => {
    const bus = new RecordingBus();
    bus.subscribe({ consumer: 'echo', events: [WidgetCreated.type], handle: async () => undefined });
    return new Scenario(bus);
  };

  it('resolves with the matching event and the stimulus result', async () => {
    const outcome = await scenario()
      .publish(WidgetCreated, { widget_id: 'w1', name: 'one' })
      .andWaitForEvent(WidgetCreated, (payload, envelope) => payload.widget_id === envelope.payload.widget_id);
    expect(outcome.payload.name).toBe('one');
  });

  it('rejects when no matching event arrives in time, naming what it saw', async () => {
    await expect(
      scenario()
        .publish(WidgetCreated, { widget_id: 'w1', name: 'one' })
        .andWaitForEvent(WidgetCreated, (payload) => payload.widget_id === 'w2', 100),
    ).rejects.toThrow(/no matching widgets.widget_created within 100 ms \(events seen: widgets.widget_created\)/);
  });

  it('rejects an expected silence that was broken', async () => {
    await expect(scenario().publish(WidgetCreated, { widget_id: 'w3', name: 'three' }).andExpectNoEvent(WidgetCreated, () => true, 10)).rejects.toThrow(/expected no/);
  });
});
