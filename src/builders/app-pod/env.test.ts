import { describe, expect, it } from '@jest/globals';
import { buildContext } from '../../../test/fixtures/build-context.js';
import { withCache, withDatabase } from '../../../test/fixtures/scalable-app.js';
import { BuildError } from '../types.js';
import { bindingEnvFrom, containerEnv } from './env.js';

const POD_NAME = { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } };
const POD_NAMESPACE = { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } };

describe('containerEnv', () => {
  it.each([
    { name: 'no user variables gives the pod identity', env: [], expected: [POD_NAME, POD_NAMESPACE] },
    {
      name: 'user variables follow the pod identity, literal and from a source',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
      expected: [
        POD_NAME,
        POD_NAMESPACE,
        { name: 'A', value: '1' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
    },
    {
      name: 'a user POD_NAME replaces the generated one',
      env: [{ name: 'POD_NAME', value: 'fixed' }],
      expected: [POD_NAMESPACE, { name: 'POD_NAME', value: 'fixed' }],
    },
    {
      name: 'a variable without value stays without value',
      env: [{ name: 'EMPTY' }],
      expected: [POD_NAME, POD_NAMESPACE, { name: 'EMPTY' }],
    },
  ])('$name', ({ env, expected }) => {
    expect(containerEnv(env, 'spec.web.env')).toEqual(expected);
  });

  it('a duplicate name is a BuildError naming the field of the duplicate', () => {
    const env = [{ name: 'X' }, { name: 'Y' }, { name: 'X', value: '2' }];
    expect(() => containerEnv(env, 'spec.workers.env')).toThrow(BuildError);
    expect(() => containerEnv(env, 'spec.workers.env')).toThrow(
      'spec.workers.env[2].name: duplicate environment variable X',
    );
  });
});

describe('bindingEnvFrom', () => {
  it.each([
    ['a web-only app', buildContext(), undefined],
    ['Redis', buildContext(withCache()), [{ secretRef: { name: 'shop-binding' } }]],
    ['a database', buildContext(withDatabase()), [{ secretRef: { name: 'shop-binding' } }]],
  ])('%s', (_name, ctx, expected) => {
    expect(bindingEnvFrom(ctx.app)).toEqual(expected);
  });
});
