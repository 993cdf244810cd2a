import { describe, expect, it } from '@jest/globals';
import { resourceRequirements } from './resources.js';

type Case = { name: string; in: Parameters<typeof resourceRequirements>[0]; out: object | undefined };

describe('resourceRequirements', () => {
  it.each<Case>([
    { name: 'requests only', in: { requests: { cpu: '200m' } }, out: { requests: { cpu: '200m' } } },
    { name: 'limits only', in: { limits: { memory: '1Gi' } }, out: { limits: { memory: '1Gi' } } },
    {
      name: 'numbers become quantity strings',
      in: { requests: { cpu: 1 }, limits: { cpu: 2, memory: '512Mi' } },
      out: { requests: { cpu: '1' }, limits: { cpu: '2', memory: '512Mi' } },
    },
    { name: 'nothing', in: {}, out: {} },
    { name: 'no resources in the spec', in: undefined, out: undefined },
  ])('$name', ({ in: resources, out }) => {
    expect(resourceRequirements(resources)).toEqual(out);
  });
});
