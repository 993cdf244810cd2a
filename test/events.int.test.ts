// The Events the README promises, read back from the API server (core/v1 Events about the ScalableApp):
// Created when objects are created, ReadyTrue/ReadyFalse when Ready flips, Scaled when the web tier's desired
// pods change, Pruned when a component is removed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OperatorHandle } from '../src/operator.js';
import { applyObj, children, condition, example, getObj, eventsOf } from './harness/apps.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { startInProcess } from './harness/operator.js';
import { eventually } from './harness/wait.js';

let ns: string;
let op: OperatorHandle;

beforeAll(async () => {
  ns = createNamespace('events');
  op = await startInProcess(ns);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  deleteNamespace(ns);
});

/** The events about one ScalableApp, oldest first. */
const events = (name: string) => eventsOf(ns, `involvedObject.kind=ScalableApp,involvedObject.name=${name}`);
const withReason = (name: string, reason: string) => events(name).filter((e) => e.reason === reason);
const ready = (name: string) => condition(getObj('sapp', ns, name), 'Ready')?.status === 'True';

describe('events about an app', () => {
  const app = example('minimal.yaml', ns, 'ev');

  beforeAll(async () => {
    app.metadata.namespace = ns;
    app.spec!.cache = {};
    applyObj(app);
    await eventually('ev Ready', () => ready('ev'), { timeoutMs: 60_000 });
  }, 90_000);

  it('Created names every object the first pass created, and the events point at the app', async () => {
    const created = await eventually('a Created event', () => withReason('ev', 'Created')[0]);
    expect(created.type).toBe('Normal');
    const named = created.message
      .replace(/^created /, '')
      .split(', ')
      .sort();
    const kids = children(ns, 'ev')
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    expect(named).toEqual(kids);
    expect(created.involvedObject.uid).toBe(getObj('sapp', ns, 'ev')!.metadata.uid);
  });

  it('ReadyTrue when Ready turned True, after a ReadyFalse while the app was coming up', async () => {
    // The event follows the status write that made Ready True: it may be recorded a moment after.
    const flips = await eventually('the ReadyTrue event', () => {
      const f = events('ev').filter((e) => e.reason.startsWith('Ready'));
      return f.some((e) => e.reason === 'ReadyTrue') ? f : undefined;
    });
    expect(flips.map((e) => [e.type, e.reason])).toEqual([
      ['Warning', 'ReadyFalse'],
      ['Normal', 'ReadyTrue'],
    ]);
    expect(flips[1]!.message).toBe('every enabled component is serving');
  });

  it('Scaled when the web tier is scaled through the scale subresource', async () => {
    kubectl(['-n', ns, 'scale', 'sapp/ev', '--replicas=3']);
    const scaled = await eventually(
      'a Scaled event for 3 pods',
      () => withReason('ev', 'Scaled').find((e) => e.message === 'web scaled from 2 to 3 pods'),
      { timeoutMs: 30_000 },
    );
    expect(scaled.type).toBe('Normal');
    // One event for this change (an earlier change's event may be recorded meanwhile, and is not this one).
    expect(
      withReason('ev', 'Scaled').filter((e) => e.message === 'web scaled from 2 to 3 pods'),
    ).toHaveLength(1);
  }, 45_000);

  it('Pruned names the objects deleted when a component is turned off', async () => {
    const keys = () => children(ns, 'ev').map((o) => `${o.kind}/${o.metadata.name}`);
    const before = keys();
    expect(before).toContain('StatefulSet/ev-cache');
    const current = getObj('sapp', ns, 'ev')!;
    applyObj({ ...app, spec: { ...current.spec, cache: { enabled: false } } });
    const pruned = await eventually('a Pruned event', () => withReason('ev', 'Pruned')[0], {
      timeoutMs: 30_000,
    });
    expect(pruned.type).toBe('Normal');
    const named = pruned.message
      .replace(/^deleted /, '')
      .replace(/ \(no longer desired\)$/, '')
      .split(', ')
      .sort();
    await eventually('cache objects gone', () => !keys().includes('StatefulSet/ev-cache'));
    const after = new Set(keys());
    expect(named).toEqual(before.filter((k) => !after.has(k)).sort());
    expect(named).toEqual(expect.arrayContaining(['StatefulSet/ev-cache', 'ConfigMap/ev-cache-config']));
  }, 45_000);
});
