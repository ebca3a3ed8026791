import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class OnceDelete extends PrimitiveCommand {
  static override summary = 'Delete a once (refused while it runs, unless --force)';
  static override description = `Deletes the once's ConfigMap, guarded by its resourceVersion; the next \`once run\` runs the command again. A live run refuses the delete (exit 3) unless --force (the runner is then lost: its command is stopped, exit 4). Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> once delete app-init'];
  static override args = { name: primitiveNameArg('once') };
  static override flags = {
    force: Flags.boolean({ description: 'delete it even while it runs' }),
    timeout: Flags.string({ description: "accepted for konductor's CLI; koncli bounds each request by --request-timeout", hidden: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(OnceDelete);
    const name = this.nameOf(args.name, 'once');
    const ctx = await this.primitive('once');
    const { onceKind, runningError } = await import('../../core/primitives/once.js');
    await this.deleteOne(ctx, onceKind, name, flags.force, (read) =>
      read.state?.runner && read.views.some((v) => !v.expired) ? runningError(name, read, ctx.clock) : undefined,
    );
  }
}
