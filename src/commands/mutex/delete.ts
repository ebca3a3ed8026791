import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class MutexDelete extends PrimitiveCommand {
  static override summary = 'Delete a mutex (refused while held, unless --force)';
  static override description = `Deletes the mutex's ConfigMap, guarded by its resourceVersion. A live hold refuses the delete (exit 3) unless --force. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> mutex delete db-migration'];
  static override args = { name: primitiveNameArg('mutex') };
  static override flags = { force: Flags.boolean({ description: 'delete it even while someone holds it' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MutexDelete);
    const name = this.nameOf(args.name, 'mutex');
    const ctx = await this.primitive('mutex');
    const { mutexKind, busyMutex } = await import('../../core/primitives/mutex.js');
    await this.deleteOne(ctx, mutexKind, name, flags.force, (read) => (read.views.some((v) => !v.expired) ? busyMutex(name, read, ctx.clock) : undefined));
  }
}
