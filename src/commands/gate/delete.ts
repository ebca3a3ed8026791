import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class GateDelete extends PrimitiveCommand {
  static override summary = 'Delete a gate';
  static override description = `Deletes the gate's ConfigMap, guarded by its resourceVersion; waiters keep waiting for a new one. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> gate delete processing-gate'];
  static override args = { name: primitiveNameArg('gate') };

  async run(): Promise<void> {
    const { args } = await this.parse(GateDelete);
    const name = this.nameOf(args.name, 'gate');
    const ctx = await this.primitive('gate');
    const { gateKind } = await import('../../core/primitives/gate.js');
    await this.deleteOne(ctx, gateKind, name, true, () => undefined);
  }
}
