import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { rootLogger } from './log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('rootLogger', () => {
  it('writes the level as its name, as log dashboards and kubectl logs | jq filters expect', () => {
    const { lines, stream } = capture();
    const log = rootLogger('debug', stream);
    log.info('hello');
    log.child({ scalableapp: 'shop/web' }).warn('careful');
    log.debug('details');
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn', 'debug']);
  });

  it('keeps the time as ISO 8601 and redacts credentials', () => {
    const { lines, stream } = capture();
    rootLogger('info', stream).info({ secret: { password: 'hunter2' } }, 'x');
    expect(lines[0]).toMatchObject({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      component: 'scalable-app-operator',
      secret: { password: '[redacted]' },
    });
  });
});
