import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { primitiveNameArg } from '../../cli/primitive-command.js';
import { RWMutexLockCommand, rwLockFlags } from '../../cli/rwmutex-lock.js';

export default class RWMutexRLock extends RWMutexLockCommand {
  static override summary = 'Take a read lock of an rwmutex: readers share it (konductor compatible, no operator)';
  static override description = `Takes a read lock of the rwmutex NAME (a ConfigMap, created when absent: docs/formats.md) for --holder. Readers share it; a writer holding it, or a writer waiting for it (writer preference: docs/primitives.md), makes a new reader wait. Taking it again as a reader re-stamps its TTL. As konductor, waits up to 30s by default (--timeout; 0 tries once; --wait alone waits for ever), exit 3 when it cannot be had in time.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> rwmutex rlock cache-lock',
    '<%= config.bin %> rwmutex rlock cache-lock --holder reader-1',
    '<%= config.bin %> rwmutex rlock cache-lock --timeout 1m',
  ];
  static override args = { name: primitiveNameArg('rwmutex') };
  static override flags = rwLockFlags('read');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RWMutexRLock);
    await this.lockAs('read', args, flags);
  }
}
