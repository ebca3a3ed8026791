import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { rendezvousTimeoutFlag, rendezvousWait } from '../../cli/rendezvous-flags.js';

export default class WaitGroupWait extends PrimitiveCommand {
  static override summary = "Wait for a wait group's counter to reach 0";
  static override description = `Watches the wait group NAME until its counter is 0 and exits 0; exit 3 when --timeout passes first. A wait group not created yet is waited for.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup wait workers', '<%= config.bin %> waitgroup wait workers --timeout 5m'];
  static override args = { name: primitiveNameArg('waitgroup') };
  static override flags = rendezvousTimeoutFlag('the counter to reach 0');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WaitGroupWait);
    const name = this.nameOf(args.name, 'waitgroup');
    const wait = rendezvousWait(flags.timeout);
    const ctx = await this.primitive('waitgroup');
    const { waitGroupKind, planWaitGroupWait, describeWaitGroup } = await import('../../core/primitives/waitgroup.js');
    const { result, waitedMs } = await this.verb(
      ctx,
      waitGroupKind,
      name,
      planWaitGroupWait(name, ctx.store.namespace),
      wait,
      () => `waitgroup ${name} is done`,
    );
    await this.output.result({ ...describeWaitGroup(result), waitedMs: Math.round(waitedMs) }, () => `waitgroup ${name} is done (counter 0)`);
  }
}
