import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class WaitGroupDelete extends PrimitiveCommand {
  static override summary = 'Delete a wait group';
  static override description = `Deletes the wait group's ConfigMap, guarded by its resourceVersion; waiters keep waiting for a new one. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup delete workers'];
  static override args = { name: primitiveNameArg('waitgroup') };

  async run(): Promise<void> {
    const { args } = await this.parse(WaitGroupDelete);
    const name = this.nameOf(args.name, 'waitgroup');
    const ctx = await this.primitive('waitgroup');
    const { waitGroupKind } = await import('../../core/primitives/waitgroup.js');
    await this.deleteOne(ctx, waitGroupKind, name, true, () => undefined);
  }
}
