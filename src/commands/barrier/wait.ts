import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { rendezvousTimeoutFlag, rendezvousWait } from '../../cli/rendezvous-flags.js';

export default class BarrierWait extends PrimitiveCommand {
  static override summary = 'Wait for a barrier to open';
  static override description = `Watches the barrier NAME until it is open (its quorum has arrived) and exits 0. Exit 3 when --timeout passes first, or when the barrier has failed (its own --timeout passed before the quorum). A barrier not created yet is waited for.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> barrier wait extract-complete --timeout=30m'];
  static override args = { name: primitiveNameArg('barrier') };
  static override flags = rendezvousTimeoutFlag('the barrier to open');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(BarrierWait);
    const name = this.nameOf(args.name, 'barrier');
    const wait = rendezvousWait(flags.timeout);
    const ctx = await this.primitive('barrier');
    const { barrierKind, planBarrierWait, describeBarrier } = await import('../../core/primitives/barrier.js');
    const { result, waitedMs } = await this.verb(ctx, barrierKind, name, planBarrierWait(name, ctx.store.namespace), wait, () => `barrier ${name} is open`);
    const doc = { ...describeBarrier(result, ctx.clock), waitedMs: Math.round(waitedMs) };
    await this.output.result(doc, () => `barrier ${name} is open (${doc.arrived} arrived, expected ${doc.expected})`);
  }
}
