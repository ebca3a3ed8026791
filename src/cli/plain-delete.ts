import type { ClaimKind } from '../core/claim/model.js';
import { EXIT_CODES_SECTION } from './base-command.js';
import { PrimitiveCommand, primitiveNameArg } from './primitive-command.js';

/**
 * The `delete` command of a primitive nobody holds (barrier, waitgroup, gate): deletes its ConfigMap,
 * guarded by its resourceVersion; its waiters keep waiting for a new one. `load` imports the kind's descriptor.
 */
export function plainDeleteCommand(kind: string, load: () => Promise<ClaimKind<unknown>>, example: string) {
  const command = class extends PrimitiveCommand {
    static override summary = `Delete a ${kind}`;
    static override description = `Deletes the ${kind}'s ConfigMap, guarded by its resourceVersion; waiters keep waiting for a new one. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
    static override examples = [`<%= config.bin %> ${kind} delete ${example}`];
    static override args = { name: primitiveNameArg(kind) };

    async run(): Promise<void> {
      const { args } = await this.parse(command);
      const name = this.nameOf(args.name, kind);
      await this.deleteOne(await this.primitive(kind), await load(), name, true, () => undefined);
    }
  };
  return command;
}
