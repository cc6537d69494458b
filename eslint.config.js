// typescript-eslint's recommended type-aware rules over the sources, tests, benches and tools.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', '.cache/**', 'test/fixtures/**', 'tools/node-headers/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // tsc's convention: a leading _ marks a name kept on purpose (a port's parameter, a field left out of a rest)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // the config front end and its fuzzers match control bytes on purpose (keepalived rejects or strips them)
      'no-control-regex': 'off',
    },
  },
  {
    // token kinds live in Uint8Arrays (the packed token tables) and are compared with the Tok enum by design
    files: ['src/config/lexer.ts', 'src/config/parser.ts'],
    rules: { '@typescript-eslint/no-unsafe-enum-comparison': 'off' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.stringContaining, expect.any, ...) are typed any
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // fakes implement async ports without having anything to wait for
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // plain JavaScript (benches, tools): no type information to check against. The parser
    // options must be restated: this block's languageOptions replaces disableTypeChecked's.
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false, project: false, program: null },
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
