// The generated CRD in a real API server: accepted, explained, every CEL rule agreeing with zod on the shared
// table of cases, transition rules on update, status and scale subresources, printer columns.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RULES } from '../src/api/v1alpha1/rules.js';
import { createNamespace, deleteNamespace, kubectl } from './harness/cluster.js';
import { FIELD_CASES, RULE_CASES } from './fixtures/rule-cases.js';
import { type App, scalableApp, withName } from './fixtures/scalable-app.js';

const ruleById = new Map(RULES.map((r) => [r.id, r]));
let ns: string;
let n = 0;

const inNs = (app: App, name = `app-${n++}`): App => ({ ...app, metadata: { name, namespace: ns } });
const apply = (app: App, dryRun: boolean) =>
  kubectl(['apply', '--server-side', ...(dryRun ? ['--dry-run=server'] : []), '-f', '-'], {
    input: JSON.stringify(app),
    allowFail: true,
  });

beforeAll(() => {
  ns = createNamespace('crd');
});
afterAll(() => deleteNamespace(ns));

describe('ScalableApp CRD in a real API server', () => {
  it('is established with the short name and documented fields (kubectl explain)', () => {
    const out = kubectl(['explain', 'sapp.spec.database.shards']).stdout;
    expect(out).toContain('KIND:       ScalableApp');
    expect(out).toMatch(/count\s+<integer>/);
    expect(out.replace(/\s+/g, ' ')).toContain('May grow, never shrink');
    expect(kubectl(['explain', 'sapp.spec.exposure.sessionAffinity']).stdout).toContain('Cookie');
  });

  it.each(RULE_CASES.filter((c) => !c.old))('CEL agrees with zod: $name', ({ app, invalidAt, rule }) => {
    const res = apply(inNs(app), true);
    if (!invalidAt) {
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      return;
    }
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`${invalidAt}: `);
    expect(res.stderr).toContain(ruleById.get(rule)!.message);
  });

  it.each(RULE_CASES.filter((c) => c.old))(
    'transition rule on update: $name',
    ({ app, old, invalidAt, rule }) => {
      const name = `tr-${n++}`;
      const created = apply(inNs(old!, name), false);
      expect(created.stderr).toBe('');
      const res = apply(inNs(app, name), true);
      if (!invalidAt) {
        expect(res.stderr).toBe('');
        return;
      }
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`${invalidAt}: `);
      expect(res.stderr).toContain(ruleById.get(rule)!.message);
    },
  );

  it.each(FIELD_CASES)('rejects $name at admission, naming $invalidAt', ({ app, invalidAt }) => {
    const res = apply(inNs(app), true);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(invalidAt);
  });

  it('rejects unknown fields by name (strict field validation)', () => {
    const app = scalableApp();
    (app.spec.web as Record<string, unknown>).replica = 3;
    const res = apply(inNs(app), true);
    expect(res.code).not.toBe(0);
    // Server-side apply words it "field not declared in schema"; either way the field is named.
    expect(res.stderr).toMatch(/\.?spec\.web\.replica(: field not declared in schema|")/);
  });

  it('applies the schema defaults at admission', () => {
    const res = kubectl(['apply', '--server-side', '--dry-run=server', '-o', 'json', '-f', '-'], {
      input: JSON.stringify(inNs(scalableApp())),
    });
    const spec = JSON.parse(res.stdout).spec;
    expect(spec.web).toMatchObject({ port: 8080, replicas: 2, resources: { requests: { cpu: '100m' } } });
    expect(spec.exposure).toMatchObject({ type: 'Service', sessionAffinity: 'None' });
  });

  it('has working status and scale subresources and the printer columns', () => {
    const app = inNs(scalableApp(withName('scaled')), 'scaled');
    expect(apply(app, false).stderr).toBe('');
    const status = {
      status: {
        web: { replicas: 2, readyReplicas: 2, desiredReplicas: 2, selector: 'app=x', ready: '2/2' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'AllComponentsReady',
            message: 'ok',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    };
    kubectl([
      '-n',
      ns,
      'patch',
      'sapp',
      'scaled',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);
    kubectl(['-n', ns, 'scale', 'sapp/scaled', '--replicas=5']);
    const obj = JSON.parse(kubectl(['-n', ns, 'get', 'sapp', 'scaled', '-o', 'json']).stdout);
    expect(obj.spec.web.replicas).toBe(5);
    expect(obj.status.web.replicas).toBe(2);
    const scale = JSON.parse(
      kubectl(['-n', ns, 'get', 'sapp', 'scaled', '--subresource=scale', '-o', 'json']).stdout,
    );
    expect(scale).toMatchObject({
      kind: 'Scale',
      spec: { replicas: 5 },
      status: { replicas: 2, selector: 'app=x' },
    });
    const table = kubectl(['-n', ns, 'get', 'sapp', 'scaled']).stdout;
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+WEB\s+CACHE\s+DATABASE\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/^scaled\s+True\s+2\/2\s+/);
  });
});
