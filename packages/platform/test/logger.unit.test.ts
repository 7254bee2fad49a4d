import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, runWithRequestContext } from '@shop/platform';

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
  it("stamps a line written while serving a request with the request's trace id, from any logger", async () => {
    const { lines, logger } = capture();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await runWithRequestContext({ requestId: 'req-1', traceId, spanId: '00f067aa0ba902b7', sampled: true }, async () => {
      await Promise.resolve();
      logger.child({ part: 'deep' }).info('inside');
    });
    logger.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', trace_id: traceId, module: 'test', part: 'deep' });
    expect(lines[1]).toMatchObject({ msg: 'outside' });
    expect(lines[1]).not.toHaveProperty('trace_id');
  });
});
