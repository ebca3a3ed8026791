import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class WaitGroupStatus extends PrimitiveCommand {
  static override summary = "Show a wait group's counter and phase";
  static override description = `phase is konductor's: Waiting (counter above 0) or Done. Exit 6 when it does not exist, 9 when its record is corrupt or the ConfigMap is not a koncli wait group.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup status workers -o json'];
  static override args = { name: primitiveNameArg('waitgroup') };

  async run(): Promise<void> {
    const { args } = await this.parse(WaitGroupStatus);
    const name = this.nameOf(args.name, 'waitgroup');
    const ctx = await this.primitive('waitgroup');
    const { waitGroupKind, describeWaitGroup } = await import('../../core/primitives/waitgroup.js');
    const doc = describeWaitGroup(await this.readOne(ctx, waitGroupKind, name));
    await this.output.result(doc, () => [`Name:      ${doc.namespace}/${doc.name}`, `Phase:     ${doc.phase}`, `Counter:   ${doc.counter}`].join('\n'));
  }
}
