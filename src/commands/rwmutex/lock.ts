import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { primitiveNameArg } from '../../cli/primitive-command.js';
import { RWMutexLockCommand, rwLockFlags } from '../../cli/rwmutex-lock.js';

export default class RWMutexLock extends RWMutexLockCommand {
  static override summary = 'Take the write lock of an rwmutex: a writer excludes everyone (konductor compatible, no operator)';
  static override description = `Takes the write lock of the rwmutex NAME (a ConfigMap, created when absent: docs/formats.md) for --holder, once no reader and no other writer holds it. While it waits, the writer is recorded as waiting, so new readers wait behind it (writer preference: a stream of readers cannot starve it; docs/primitives.md); giving up withdraws that record. Each write lock gets a greater fencing token (a resourceVersion, also across a delete and re-create: docs/formats.md). As konductor, waits up to 30s by default (--timeout; 0 tries once; --wait alone waits for ever), exit 3 when it cannot be had in time.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> rwmutex lock cache-lock', '<%= config.bin %> rwmutex lock cache-lock --holder writer-1 --timeout 30s'];
  static override args = { name: primitiveNameArg('rwmutex') };
  static override flags = rwLockFlags('write');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RWMutexLock);
    await this.lockAs('write', args, flags);
  }
}
