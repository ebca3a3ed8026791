import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { KoncliError } from '../../core/errors.js';
import type { MutexState } from '../../core/primitives/mutex.js';

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
    const [{ mutexKind, busyMutex }, { deleteRecord }] = await Promise.all([import('../../core/primitives/mutex.js'), import('../../core/claim/engine.js')]);
    const refuseWhileHeld = (read: Parameters<Parameters<typeof deleteRecord<MutexState>>[3]>[0]) => {
      if (flags.force || read.views.every((v) => v.expired)) return;
      const busy = busyMutex(name, read, ctx.clock);
      throw new KoncliError('busy', `${busy.message}; not deleting it (add --force)`, busy.details);
    };
    await deleteRecord(ctx, mutexKind, name, refuseWhileHeld, (m) => this.output.warn(m));
    await this.output.result({ kind: 'mutex', namespace: ctx.store.namespace, name, outcome: 'deleted' }, () => `deleted mutex ${name}`);
  }
}
