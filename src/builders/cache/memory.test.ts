import { describe, expect, it } from '@jest/globals';
import { quantityBytes, redisBytes } from './memory.js';

describe('redisBytes', () => {
  it.each([
    ['1024', 1024],
    ['1k', 1000],
    ['1kb', 1024],
    ['256mb', 256 * 1024 ** 2],
    ['256MB', 256 * 1024 ** 2],
    ['2m', 2e6],
    ['1gb', 1024 ** 3],
    ['3G', 3e9],
  ])('reads %s as %d bytes', (size, bytes) => {
    expect(redisBytes(size)).toBe(bytes);
  });

  it.each(['', '1.5gb', '1tb', 'lots'])('does not read %j', (size) => {
    expect(redisBytes(size)).toBeUndefined();
  });
});

describe('quantityBytes', () => {
  it.each([
    [268435456, 268435456],
    ['512Mi', 512 * 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['1G', 1e9],
    ['500k', 5e5],
    ['1e9', 1e9],
    ['128974848', 128974848],
    ['1000m', 1],
  ])('reads %p as %d bytes', (quantity, bytes) => {
    expect(quantityBytes(quantity)).toBe(bytes);
  });

  it.each(['', '1Xi', 'Mi', '1.2.3'])('does not read %j', (quantity) => {
    expect(quantityBytes(quantity)).toBeUndefined();
  });
});
