import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class BarrierDelete extends PrimitiveCommand {
  static override summary = 'Delete a barrier (to reset it, create it again)';
  static override description = `Deletes the barrier's ConfigMap, guarded by its resourceVersion; waiters keep waiting for a new one. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> barrier delete extract-complete'];
  static override args = { name: primitiveNameArg('barrier') };

  async run(): Promise<void> {
    const { args } = await this.parse(BarrierDelete);
    const name = this.nameOf(args.name, 'barrier');
    const ctx = await this.primitive('barrier');
    const { barrierKind } = await import('../../core/primitives/barrier.js');
    await this.deleteOne(ctx, barrierKind, name, true, () => undefined);
  }
}
