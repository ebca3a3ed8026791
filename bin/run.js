#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// Node caches compiled bytecode of the bundle between runs (start-up time matters for scripts).
enableCompileCache?.();
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
// Exit as soon as the command is done: idle keep-alive sockets must not hold the process open.
process.exit(process.exitCode ?? 0);
