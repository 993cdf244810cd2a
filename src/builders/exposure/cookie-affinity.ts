// Cookie affinity on an Ingress is controller-specific: ingress-nginx reads annotations on the Ingress, Traefik
// reads annotations on the backend Service. This module decides which controllers get them, and writes them.
import type { ExposureSpec } from '../../api/v1alpha1/index.js';

export type CookieController = 'nginx' | 'traefik';

/**
 * The controllers whose cookie annotations an Ingress with cookie affinity gets: by ingressClassName (a class
 * whose name contains "nginx" or "traefik"); with no class, both, since the cluster's default class may be
 * either (k3s defaults to Traefik) and each controller ignores the other's annotations. Empty for other
 * classes (the user adds annotations) and for anything that is not an Ingress with cookie affinity.
 */
export function cookieControllers(exposure: ExposureSpec): CookieController[] {
  if (exposure.type !== 'Ingress' || exposure.sessionAffinity !== 'Cookie') return [];
  const cls = exposure.ingressClassName?.toLowerCase() ?? '';
  if (cls === '') return ['nginx', 'traefik'];
  if (cls.includes('traefik')) return ['traefik'];
  if (cls.includes('nginx')) return ['nginx'];
  return [];
}

export const NGINX_AFFINITY = 'nginx.ingress.kubernetes.io/affinity';
export const NGINX_AFFINITY_MODE = 'nginx.ingress.kubernetes.io/affinity-mode';
export const NGINX_COOKIE_NAME = 'nginx.ingress.kubernetes.io/session-cookie-name';
export const NGINX_COOKIE_MAX_AGE = 'nginx.ingress.kubernetes.io/session-cookie-max-age';
export const TRAEFIK_STICKY_COOKIE = 'traefik.ingress.kubernetes.io/service.sticky.cookie';
export const TRAEFIK_STICKY_COOKIE_NAME = 'traefik.ingress.kubernetes.io/service.sticky.cookie.name';

/** ingress-nginx cookie affinity (on the Ingress); `persistent` keeps sessions pinned when pods are added. */
export const nginxCookieAnnotations = (e: ExposureSpec): Record<string, string> => ({
  [NGINX_AFFINITY]: 'cookie',
  [NGINX_AFFINITY_MODE]: 'persistent',
  [NGINX_COOKIE_NAME]: e.cookieName,
  [NGINX_COOKIE_MAX_AGE]: String(e.affinityTimeoutSeconds),
});

/** Traefik sticky cookie (on the backend Service). */
export const traefikCookieAnnotations = (e: ExposureSpec): Record<string, string> => ({
  [TRAEFIK_STICKY_COOKIE]: 'true',
  [TRAEFIK_STICKY_COOKIE_NAME]: e.cookieName,
});
