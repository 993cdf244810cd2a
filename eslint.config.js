import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', '.local/', 'coverage/', 'e2e/load/', 'charts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: [
      'scripts/**',
      'hack/**',
      'bench/**',
      '**/bench/**',
      '**/*.test.ts',
      'test/**',
      'e2e/**',
      'jest.config.js',
      'src/cli.ts',
    ],
    rules: { 'no-console': 'off' },
  },
);
