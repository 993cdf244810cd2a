// Jest runs native ES modules (node --experimental-vm-modules); @swc/jest strips types.
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2024' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    },
  ],
};

const common = {
  transform,
  // .local holds the cluster's state (etcd's *.snap files would look like obsolete jest snapshots).
  modulePathIgnorePatterns: ['<rootDir>/.local/', '<rootDir>/dist/'],
  watchPathIgnorePatterns: ['<rootDir>/.local/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/src/**/*.test.ts',
        '<rootDir>/scripts/**/*.test.ts',
        '<rootDir>/examples/**/*.test.ts',
        // The e2e harness's own tests (not the e2e specs, *.e2e.test.ts beside the harness: they need a real node).
        '<rootDir>/e2e/harness/**/*.test.ts',
      ],
      testPathIgnorePatterns: ['/node_modules/', '\\.(int|svc)\\.test\\.ts$'],
    },
    {
      // Tests against real servers the test file starts itself (MariaDB, Redis): no cluster needed.
      ...common,
      displayName: 'services',
      testMatch: ['<rootDir>/{src,test,examples}/**/*.svc.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int.test.ts', '<rootDir>/src/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
