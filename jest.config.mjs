// Three projects: `unit` needs nothing; `integration` and `reliability` run against the
// local control plane (test/cluster), which their globalSetup starts or reuses.
// Jest runs a project's globalSetup only when tests of that project are selected, so
// `--selectProjects unit` never touches the cluster.
import { createDefaultEsmPreset } from 'ts-jest';

// ts-jest in ESM mode, transpile-only (isolatedModules in tsconfig.test.json) for speed.
const preset = createDefaultEsmPreset({ tsconfig: '<rootDir>/tsconfig.test.json' });

const common = {
  ...preset,
  rootDir: import.meta.dirname,
  testEnvironment: 'node',
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};

const withCluster = {
  globalSetup: '<rootDir>/test/integration/globalSetup.mjs',
  globalTeardown: '<rootDir>/test/integration/globalTeardown.mjs',
};

/** @type {import('jest').Config} */
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      ...withCluster,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/integration/jest-timeout-120s.mjs'],
    },
    {
      ...common,
      ...withCluster,
      displayName: 'reliability',
      testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/integration/jest-timeout-180s.mjs'],
    },
  ],
};
