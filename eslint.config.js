import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Time comes from an injected kernel `Clock` (node time, virtual in a simulation) or a named wall clock, never from the
 * globals: a raw timer or `Date.now` in logic runs on the machine's time whatever clock a simulation hands in.
 * `setImmediate` and `queueMicrotask` stay allowed: they order work within the event loop and measure no time.
 */
const TIME_PROPERTIES = [
  { object: 'Date', property: 'now', message: 'Read the time from an injected Clock (`clock.now()`).' },
  {
    object: 'performance',
    property: 'now',
    message: 'Use an injected Clock, or `stopwatch()` from @cpnet/kernel/system to measure wall time.',
  },
  {
    object: 'AbortSignal',
    property: 'timeout',
    message: 'A real timer: take the timeout from an injected (wall) Clock, or say why it must be wall time.',
  },
  { object: 'globalThis', property: 'setTimeout', message: 'Use an injected Clock (`clock.setTimeout`).' },
  { object: 'globalThis', property: 'setInterval', message: 'Use an injected Clock (`clock.setInterval`).' },
];
const TIME_GLOBALS = [
  { name: 'setTimeout', message: 'Use an injected Clock: `clock.setTimeout` (node time) or the wall clock.' },
  { name: 'setInterval', message: 'Use an injected Clock: `clock.setInterval` (node time) or the wall clock.' },
  { name: 'clearTimeout', message: 'A Clock timer returns its own cancel function.' },
  { name: 'clearInterval', message: 'A Clock timer returns its own cancel function.' },
];
const NEW_DATE_NOW = {
  selector: "NewExpression[callee.name='Date'][arguments.length=0]",
  message: 'new Date() reads the wall clock: use new Date(clock.now()).',
};

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
    // All non-test source: time only through a Clock.
    files: ['packages/*/src/**', 'apps/*/src/**', 'simulator/src/**'],
    ignores: [
      '**/*.test.ts',
      // Test support beside the code (imported by tests only).
      'apps/node/src/scheduling/testing.ts',
      // The real implementation of the kernel Clock.
      'packages/kernel/src/system.ts',
      // the simulator's clock implementation
      'simulator/src/clock/**',
      // The browser's Clock of the visualiser page (window timers, the page's monotonic time).
      'apps/visualiser/src/app/page-clock.ts',
    ],
    rules: {
      'no-restricted-globals': ['error', ...TIME_GLOBALS],
      'no-restricted-properties': ['error', ...TIME_PROPERTIES],
      'no-restricted-syntax': ['error', NEW_DATE_NOW],
    },
  },
  {
    files: [
      'packages/guide/src/**',
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
        ...TIME_PROPERTIES,
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
