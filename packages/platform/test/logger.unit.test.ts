import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, eventContext, runInContext } from '@shop/platform';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: createLogger('info', { module: 'test' }, stream) };
}

describe('createLogger', () => {
  it("stamps a line written while serving a request with the request's trace and span ids, from any logger", async () => {
    const { lines, logger } = capture();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await runInContext(eventContext({ id: 'req-1', traceparent: `00-${traceId}-00f067aa0ba902b7-01` }), async () => {
      await Promise.resolve();
      logger.child({ part: 'deep' }).info('inside');
    });
    logger.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: traceId, span_id: '00f067aa0ba902b7', module: 'test', part: 'deep' });
    expect(lines[1]).toMatchObject({ msg: 'outside' });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });
});
