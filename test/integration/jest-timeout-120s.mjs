// setupFilesAfterEnv: default per-test timeout for this project (testTimeout is global-only in jest). A guard
// against a hung test, not an assertion: 120 s, since scripts/test.mjs runs 3 files at once on 2 cores.
import { jest } from '@jest/globals';

jest.setTimeout(120_000);
