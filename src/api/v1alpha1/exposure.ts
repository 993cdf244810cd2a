// How users reach the web tier: a Service, an Ingress or a Gateway API HTTPRoute, with optional sticky sessions.
import { z } from 'zod';
import { dns1123Label, dns1123Subdomain } from './common.js';
import { type Rule, withRules } from './rule.js';

export const EXPOSURE_TYPES = ['Service', 'Ingress', 'Gateway'] as const;
export const SESSION_AFFINITIES = ['None', 'ClientIP', 'Cookie'] as const;

const exposureObject = z.strictObject({
  type: z
    .enum(EXPOSURE_TYPES)
    .default('Service')
    .describe(
      'Service: a load-balanced Service only; Ingress: plus an Ingress; Gateway: plus a Gateway API HTTPRoute.',
    ),
  serviceType: z
    .enum(['ClusterIP', 'NodePort', 'LoadBalancer'])
    .default('ClusterIP')
    .describe('Type of the web Service; LoadBalancer asks the cloud for an external load balancer.'),
  servicePort: z.int().min(1).max(65535).default(80).describe('Port of the web Service.'),
  sessionAffinity: z
    .enum(SESSION_AFFINITIES)
    .default('None')
    .describe(
      'Sticky sessions. None: round robin; ClientIP: the Service pins a client address to a pod; Cookie: the Ingress or Gateway pins a browser by cookie (needs type Ingress or Gateway).',
    ),
  affinityTimeoutSeconds: z
    .int()
    .min(1)
    .max(86400)
    .default(10800)
    .describe('How long a client stays pinned to its pod after its last request.'),
  cookieName: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, { message: 'must be a valid cookie name (an HTTP token)' })
    .max(64)
    .default('SAPP_AFFINITY')
    .describe('Name of the affinity cookie for sessionAffinity Cookie.'),
  host: dns1123Subdomain
    .optional()
    .describe('Host name served by the Ingress or HTTPRoute, e.g. shop.example.com.'),
  ingressClassName: z
    .string()
    .optional()
    .describe(
      'IngressClass to use; absent uses the cluster default. nginx and traefik get cookie annotations.',
    ),
  tlsSecretName: dns1123Subdomain
    .optional()
    .describe('Secret with the TLS certificate for host; absent serves plain HTTP.'),
  annotations: z
    .record(z.string(), z.string())
    .optional()
    .describe('Extra annotations for the Ingress (or HTTPRoute), e.g. for cert-manager.'),
  gateway: z
    .strictObject({
      name: dns1123Subdomain.describe('Name of the Gateway.'),
      namespace: dns1123Label
        .optional()
        .describe('Namespace of the Gateway; absent means the app namespace.'),
      sectionName: z.string().optional().describe('Listener of the Gateway to attach to.'),
    })
    .optional()
    .describe('The Gateway the HTTPRoute attaches to (required for type Gateway).'),
});

type ExposureIn = z.output<typeof exposureObject>;

export const exposureRules: Rule<ExposureIn>[] = [
  {
    id: 'exposure.cookie-needs-ingress-or-gateway',
    at: 'exposure',
    cel: "self.sessionAffinity != 'Cookie' || self.type == 'Ingress' || self.type == 'Gateway'",
    message: 'sessionAffinity Cookie requires type Ingress or Gateway (a Service can only pin by client IP)',
    fieldPath: '.sessionAffinity',
    check: (e) => e.sessionAffinity !== 'Cookie' || e.type === 'Ingress' || e.type === 'Gateway',
  },
  {
    id: 'exposure.gateway-needs-gateway-ref',
    at: 'exposure',
    cel: "self.type != 'Gateway' || has(self.gateway)",
    message: 'gateway (the Gateway to attach the HTTPRoute to) is required when type is Gateway',
    fieldPath: '.gateway',
    check: (e) => e.type !== 'Gateway' || e.gateway !== undefined,
  },
  {
    id: 'exposure.tls-needs-host',
    at: 'exposure',
    cel: '!has(self.tlsSecretName) || has(self.host)',
    message: 'host is required when tlsSecretName is set (the certificate is served for that host)',
    fieldPath: '.host',
    check: (e) => e.tlsSecretName === undefined || e.host !== undefined,
  },
];

export const exposure = withRules(exposureObject, exposureRules).describe(
  'How clients reach the web tier: load balancing and sticky sessions.',
);

export type ExposureSpec = z.output<typeof exposure>;
