// The e2e project on its own: `node --experimental-vm-modules node_modules/jest/bin/jest.js -c e2e/jest.config.js
// --runInBand`. The same settings as the root jest.config.js projects (native ES modules, @swc/jest); to make it a
// project of the root config instead, add
//   { ...common, displayName: 'e2e', testMatch: ['<rootDir>/e2e/**/*.e2e.test.ts'],
//     globalSetup: '<rootDir>/e2e/harness/global-setup.ts' }
// to its `projects` (and keep it out of `make test`: select it with --selectProjects e2e).
export default {
  rootDir: '..',
  displayName: 'e2e',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2024' },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  modulePathIgnorePatterns: ['<rootDir>/.local/', '<rootDir>/dist/'],
  watchPathIgnorePatterns: ['<rootDir>/.local/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/e2e/**/*.e2e.test.ts'],
  globalSetup: '<rootDir>/e2e/harness/global-setup.ts',
  // Each step sets its own timeout; this is the default for anything that does not.
  testTimeout: 600_000,
};
