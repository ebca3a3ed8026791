import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { primitiveNameArg } from '../../cli/primitive-command.js';
import { WaitGroupCommand } from '../../cli/waitgroup-command.js';
import { countFlag } from '../../cli/rendezvous-flags.js';

export default class WaitGroupAdd extends WaitGroupCommand {
  static override summary = "Add to a wait group's counter (--delta, default 1)";
  static override description = `Moves the counter of the wait group NAME by --delta (negative lowers it), guarded by its resourceVersion: concurrent adds and dones all count. A change that would take the counter below 0 is refused, nothing changed (exit 5). Exit 6 when the wait group does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup add workers', '<%= config.bin %> waitgroup add workers --delta 5'];
  static override args = { name: primitiveNameArg('waitgroup') };
  static override flags = { delta: Flags.integer({ description: 'amount to add to the counter', default: 1 }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WaitGroupAdd);
    // Negative lowers it (konductor's int32 either way): the message must show the value as typed, and that a negative one is allowed.
    const delta = countFlag(flags.delta, 'delta', -(2 ** 31 - 1));
    await this.change(this.nameOf(args.name, 'waitgroup'), delta);
  }
}
