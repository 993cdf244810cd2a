import { describe, expect, it } from '@jest/globals';
import { type Clock, TokenBucket } from './rate-limiter.js';

function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces at qps', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    for (let i = 0; i < 5; i++) await bucket.take();
    expect(clock.t).toBe(0);
    for (let i = 0; i < 10; i++) await bucket.take();
    expect(clock.t).toBeCloseTo(1000, 0);
  });

  it('refills over idle time up to the burst', async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(2, 3, clock);
    for (let i = 0; i < 3; i++) await bucket.take();
    clock.t += 10_000;
    for (let i = 0; i < 3; i++) await bucket.take();
    expect(clock.t).toBe(10_000);
    await bucket.take();
    expect(clock.t).toBeCloseTo(10_500, 0);
  });

  it('rejects a nonsensical configuration', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/qps must be > 0/);
  });
});
