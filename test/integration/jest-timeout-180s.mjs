// setupFilesAfterEnv: default per-test timeout for this project (testTimeout is global-only in jest).
import { jest } from '@jest/globals';

jest.setTimeout(180_000);
