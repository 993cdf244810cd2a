import { describe, expect, it } from '@jest/globals';
import { BUILD_CASES, buildContext, exampleContexts, TEST_UID } from '../../test/fixtures/build-context.js';
import {
  withAutoscaling,
  withCache,
  withCookieAffinity,
  withDatabase,
  withWorkers,
} from '../../test/fixtures/scalable-app.js';
import { needsBinding } from './binding.js';
import type { ScalableApp } from '../api/v1alpha1/index.js';
import { buildCache } from './cache/index.js';
import { buildCredentialsSecret } from './credentials.js';
import { buildDatabase } from './database/index.js';
import { buildAll } from './index.js';
import { labels, ownerReference } from './meta.js';
import { bindingSecretName, credentialsSecretName } from './names.js';
import type { BuildContext, K8sObject } from './types.js';

const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
const ALL: [string, BuildContext][] = [
  ...exampleContexts().map(([file, ctx]): [string, BuildContext] => [`example ${file}`, ctx]),
  ...BUILD_CASES.map(({ name, mods }): [string, BuildContext] => [name, buildContext(...mods)]),
];

/** The credentials Secret outlives the app (no owner reference) unless the database's deletionPolicy is Delete. */
const retainedCredentials = (app: ScalableApp, o: K8sObject) =>
  o.kind === 'Secret' &&
  o.metadata.name === credentialsSecretName(app) &&
  app.spec.database?.deletionPolicy !== 'Delete';

/** The objects of the web side: everything but what the credentials, cache and database builders return. */
function webSide(ctx: BuildContext): string[] {
  const dataTier = new Set(
    [...buildCredentialsSecret(ctx), ...buildCache(ctx), ...buildDatabase(ctx)].map(key),
  );
  return buildAll(ctx)
    .map(key)
    .filter((k) => !dataTier.has(k));
}

interface SecretRef {
  name: string;
  key?: string;
}

/** Every Secret reference in an object: `secretKeyRef` ({name, key}) and `envFrom[].secretRef` ({name}). */
function secretRefs(node: unknown): SecretRef[] {
  if (Array.isArray(node)) return node.flatMap(secretRefs);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([field, value]): SecretRef[] =>
    field === 'secretKeyRef' || field === 'secretRef' ? [value as SecretRef] : secretRefs(value),
  );
}

describe('buildAll', () => {
  it('covers every example', () => {
    expect(ALL.map(([name]) => name)).toEqual(
      expect.arrayContaining(['example minimal.yaml', 'example shop.yaml', 'example shop-mariadb.yaml']),
    );
  });

  describe.each(ALL)('%s', (_name, ctx) => {
    const objects = buildAll(ctx);
    const { app } = ctx;

    it('starts with the binding Secret when there is a data tier, and has none otherwise', () => {
      const binding = `Secret/${bindingSecretName(app)}`;
      if (needsBinding(app)) expect(key(objects[0]!)).toBe(binding);
      else expect(objects.map(key)).not.toContain(binding);
    });

    it('gives every object the standard labels, the app namespace and the owner reference', () => {
      for (const o of objects) {
        const component = o.metadata.labels?.['app.kubernetes.io/component'];
        expect(component).toEqual(expect.any(String));
        expect(o.metadata.namespace).toBe(app.metadata.namespace);
        expect(o.metadata.labels).toMatchObject(labels(app, component as Parameters<typeof labels>[1]));
        if (retainedCredentials(app, o)) {
          expect(o.metadata).not.toHaveProperty('ownerReferences');
        } else {
          expect(o.metadata.ownerReferences).toEqual([ownerReference(app)]);
          expect(o.metadata.ownerReferences![0]!.uid).toBe(TEST_UID);
        }
      }
    });

    it('names every object once, with a DNS-1123 label', () => {
      const keys = objects.map(key);
      expect(new Set(keys).size).toBe(keys.length);
      for (const o of objects) expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    });

    it('every Secret its pods reference is built with the referenced key, or comes from the user', () => {
      const secrets = new Map(
        objects
          .filter((o) => o.kind === 'Secret')
          .map((o) => [o.metadata.name, Object.keys((o as { data?: object }).data ?? {})]),
      );
      const userSpec = JSON.stringify(app.spec);
      for (const ref of secretRefs(objects)) {
        const keys = secrets.get(ref.name);
        if (keys === undefined) {
          expect(userSpec).toContain(`"name":"${ref.name}"`);
          continue;
        }
        if (ref.key !== undefined) expect(keys).toContain(ref.key);
      }
    });

    it('is pure: building twice gives equal objects', () => {
      expect(buildAll(ctx)).toEqual(objects);
    });
  });

  it.each([
    {
      name: 'a web-only app has the web Deployment, Service and PDB, and no binding',
      mods: [],
      expected: ['Deployment/shop-web', 'Service/shop-web', 'PodDisruptionBudget/shop-web'],
    },
    {
      name: 'autoscaling adds the web HPA after the Deployment',
      mods: [withAutoscaling()],
      expected: [
        'Deployment/shop-web',
        'HorizontalPodAutoscaler/shop-web',
        'Service/shop-web',
        'PodDisruptionBudget/shop-web',
      ],
    },
    {
      name: 'cookie affinity on an Ingress adds the Ingress',
      mods: [withCookieAffinity('Ingress')],
      expected: [
        'Deployment/shop-web',
        'Service/shop-web',
        'Ingress/shop-web',
        'PodDisruptionBudget/shop-web',
      ],
    },
    {
      name: 'a Gateway adds the HTTPRoute and no Ingress',
      mods: [withCookieAffinity('Gateway')],
      expected: [
        'Deployment/shop-web',
        'Service/shop-web',
        'HTTPRoute/shop-web',
        'PodDisruptionBudget/shop-web',
      ],
    },
    {
      name: 'autoscaled workers add their Deployment, HPA and PDB',
      mods: [withWorkers({ command: ['w'], autoscaling: {} })],
      expected: [
        'Deployment/shop-web',
        'Service/shop-web',
        'Deployment/shop-workers',
        'HorizontalPodAutoscaler/shop-workers',
        'PodDisruptionBudget/shop-web',
        'PodDisruptionBudget/shop-workers',
      ],
    },
    {
      name: 'disabled workers, cache and database add nothing of the web side',
      mods: [
        withWorkers({ enabled: false }),
        withCache({ enabled: false }),
        withDatabase({ enabled: false }),
      ],
      expected: ['Deployment/shop-web', 'Service/shop-web', 'PodDisruptionBudget/shop-web'],
    },
    {
      name: 'Redis and a database add their NetworkPolicies last',
      mods: [withCache(), withDatabase()],
      expected: [
        'Secret/shop-binding',
        'Deployment/shop-web',
        'Service/shop-web',
        'PodDisruptionBudget/shop-web',
        'NetworkPolicy/shop-cache-ingress',
        'NetworkPolicy/shop-db-ingress',
      ],
    },
  ])('$name', ({ mods, expected }) => {
    expect(webSide(buildContext(...mods))).toEqual(expected);
  });

  it('with autoscaling, no object sets the web replicas', () => {
    const web = buildAll(buildContext(withAutoscaling())).find((o) => key(o) === 'Deployment/shop-web')!;
    expect(web.spec).not.toHaveProperty('replicas');
  });

  it('matches the snapshot of the web-side objects of every edge case', () => {
    expect(
      Object.fromEntries(BUILD_CASES.map(({ name, mods }) => [name, webSide(buildContext(...mods))])),
    ).toMatchSnapshot();
  });
});
