# The operator image. The build context is the repository root:
#   docker build -t scalable-app-operator:0.1.0 .
#   buildah build -t scalable-app-operator:0.1.0 .
# BUILD_IMAGE compiles (needs npm); BASE_IMAGE runs and must provide `node` (24, the current LTS) on the PATH
# and accept the numeric non-root user below (the official node images' `node` user is 1000:1000).
ARG BUILD_IMAGE=node:24-bookworm
ARG BASE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript to dist/ (tsconfig.build.json: rootDir ".", outDir "dist" → dist/src/...) ----
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The lockfile also describes the examples/shop-app workspace; npm wants its package.json. `npm install
# --no-save` follows package-lock.json like `npm ci` but tolerates the platform packages the lock lacks (see README).
COPY examples/shop-app/package.json examples/shop-app/
# --ignore-scripts: nothing here needs an install script, and the `node` dev dependency's would download a
# second Node binary (the image has Node 24 already).
RUN npm install --no-save --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.ts scripts/
COPY src src
# `npm run build` = tsc + scripts/copy-assets.ts (the builders' .sh/.sql/.cnf/.conf files next to the JS);
# the check fails the image build if an asset did not make it into dist/.
RUN npm run build \
 && node scripts/copy-assets.ts --check \
 && test -f dist/src/cli.js

# ---- deps: production dependencies of the root package only ----
FROM ${BUILD_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# --omit=dev drops TypeScript, jest, the `node` binary package, ...; --workspaces=false leaves out the example
# shop's workspace and its dependencies (mysql2, redis): what remains is client-node, pino, prom-client, undici,
# yaml, zod and their dependencies.
RUN npm install --no-save --omit=dev --workspaces=false --ignore-scripts --no-audit --no-fund

# ---- runtime ----
FROM ${BASE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# package.json carries "type": "module", which makes dist/**/*.js ES modules.
COPY package.json ./
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# By number, so that the kubelet can verify runAsNonRoot; the Helm chart runs it as the same uid.
USER 1000:1000
# /healthz, /readyz and /metrics (HTTP_PORT).
EXPOSE 8080
# Exec form, no shell: SIGTERM reaches node, which finishes in-flight reconciles, releases its lease and exits.
# A 2 MiB young generation: V8's default grows it to tens of MiB, which the operator's short-lived objects fill
# and RSS keeps (measured with make bench at 100 apps: peak 285 -> 168 MiB, same convergence time).
# --optimize-for-size: V8 grows the old generation in smaller steps and collects it sooner; converging 300
# minimal apps the operator peaked at 159 MiB instead of 247 MiB and kept it (without the flag, until V8 found the
# process idle about 110 s later). README, Benchmarks, has the 1,000-app run.
CMD ["node", "--max-semi-space-size=2", "--optimize-for-size", "dist/src/cli.js", "start"]
