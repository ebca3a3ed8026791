import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class BarrierStatus extends PrimitiveCommand {
  /** konductor's `koncli status barrier NAME`. */
  static override aliases = ['status:barrier'];
  static override summary = 'Show a barrier: phase, arrivals, quorum';
  static override description = `phase is konductor's: Waiting, Open or Failed (its --timeout passed before the quorum, judged on this machine's clock: docs/clock.md). Exit 6 when it does not exist, 9 when its record is corrupt or the ConfigMap is not a koncli barrier.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> barrier status extract-complete', '<%= config.bin %> barrier status extract-complete -o json'];
  static override args = { name: primitiveNameArg('barrier') };

  async run(): Promise<void> {
    const { args } = await this.parse(BarrierStatus);
    const name = this.nameOf(args.name, 'barrier');
    const ctx = await this.primitive('barrier');
    const { barrierKind, describeBarrier } = await import('../../core/primitives/barrier.js');
    const doc = describeBarrier(await this.readOne(ctx, barrierKind, name), ctx.clock);
    await this.output.result(doc, () =>
      [
        `Name:      ${doc.namespace}/${doc.name}`,
        `Phase:     ${doc.phase}`,
        `Arrived:   ${doc.arrived}/${doc.expected}${doc.quorum === null ? '' : ` (quorum ${doc.quorum})`}`,
        `Arrivals:  ${doc.arrivals.join(', ') || '<none>'}`,
        ...(doc.openedAt ? [`Opened:    ${doc.openedAt}`] : doc.expiresAt ? [`Fails at:  ${doc.expiresAt}`] : []),
      ].join('\n'),
    );
  }
}
