import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/generated/**',
      'bench/results/**',
      '**/.turbo/**',
      'apps/visualiser/dist/**',
      'docs/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        queueMicrotask: 'readonly',
        crypto: 'readonly',
        window: 'readonly',
        document: 'readonly',
        requestAnimationFrame: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      'max-params': ['error', 3],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // Prettier wraps code at 120; this catches what it cannot wrap (comments, strings, template literals).
      'max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    files: [
      'packages/identifier/src/**',
      'packages/kernel/src/**',
      'packages/protocol/src/**',
      'packages/scheduler/src/**',
      'packages/security/src/**',
    ],
    // The kernel's system entry is the one place allowed the wall clock and real timers.
    ignores: ['**/*.test.ts', 'packages/kernel/src/system.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'express',
            'socket.io',
            'node:fs',
            'fs',
            'node:net',
            'net',
            'node:http',
            'http',
            'node:fs/promises',
            'fs/promises',
          ],
          patterns: ['@prisma/*', '*/generated/*'],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Pure packages take an Rng parameter.' },
        { object: 'Date', property: 'now', message: 'Pure packages take a Clock parameter.' },
      ],
    },
  },
  {
    // The single-executable launcher of packaging/: Node SEAs run one CommonJS script.
    files: ['packaging/**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
