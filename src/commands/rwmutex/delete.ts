import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { KoncliError } from '../../core/errors.js';

export default class RWMutexDelete extends PrimitiveCommand {
  static override summary = 'Delete an rwmutex (refused while locked, unless --force)';
  static override description = `Deletes the rwmutex's ConfigMap, guarded by its resourceVersion. A live read or write lock refuses the delete (exit 3) unless --force. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> rwmutex delete cache-lock'];
  static override args = { name: primitiveNameArg('rwmutex') };
  static override flags = { force: Flags.boolean({ description: 'delete it even while someone holds it' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RWMutexDelete);
    const name = this.nameOf(args.name, 'rwmutex');
    const ctx = await this.primitive('rwmutex');
    const { rwmutexKind, describeRWMutex } = await import('../../core/primitives/rwmutex.js');
    await this.deleteOne(ctx, rwmutexKind, name, flags.force, (read) => {
      const d = describeRWMutex(read, ctx.clock);
      if (d.phase === 'Unlocked') return undefined;
      const who = d.holder ? `write-locked by ${d.holder}` : `read-locked by ${d.holders.join(', ')}`;
      return new KoncliError('busy', `rwmutex ${name} is ${who}`, { holder: d.holder, holders: d.holder ? [d.holder] : d.holders });
    });
  }
}
