// The database's configuration files and scripts, read once from the files beside this module (the build
// must copy config/ and scripts/ next to the compiled JavaScript).
import { readFileSync } from 'node:fs';
import type { Engine } from '../../api/v1alpha1/index.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** Files the same for both engines: ConfigMap key → file. */
const COMMON = {
  'lib.sh': './scripts/lib.sh',
  'start.sh': './scripts/start.sh',
  'prepare.sh': './scripts/prepare.sh',
  'bootstrap.sh': './scripts/bootstrap.sh',
  'readiness.sh': './scripts/readiness.sh',
  'liveness.sh': './scripts/liveness.sh',
  'users.sql': './scripts/users.sql',
  'databases.sql': './scripts/databases.sql',
} as const;

/** Engine-specific files, under config/<engine>/ and scripts/<engine>/. */
const PER_ENGINE = {
  'server.cnf': 'config',
  'change-source.sql': 'scripts',
  'dump.sh': 'scripts',
  'operator.sql': 'scripts',
} as const;

const load = (engine: Engine): Readonly<Record<string, string>> =>
  Object.freeze({
    ...Object.fromEntries(Object.entries(COMMON).map(([key, path]) => [key, read(path)])),
    ...Object.fromEntries(
      Object.entries(PER_ENGINE).map(([key, dir]) => [key, read(`./${dir}/${engine}/${key}`)]),
    ),
  });

const ASSETS: Record<Engine, Readonly<Record<string, string>>> = {
  mysql: load('mysql'),
  mariadb: load('mariadb'),
};

/** The ConfigMap data of an engine: every file the database pods mount at /config. */
export const databaseConfigData = (engine: Engine): Record<string, string> => ({ ...ASSETS[engine] });
