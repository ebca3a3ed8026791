import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { GateCommand } from '../../cli/gate-command.js';
import { primitiveNameArg } from '../../cli/primitive-command.js';

export default class GateOpen extends GateCommand {
  static override summary = 'Open a gate by hand (until `gate close`)';
  static override description = `Opens the gate NAME whatever its conditions, recording who (--holder) and when; its waiters return. Opening an open gate changes nothing (outcome already-open). Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> gate open deployment-gate'];
  static override args = { name: primitiveNameArg('gate') };
  static override flags = { holder: holderFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GateOpen);
    await this.setGate(this.nameOf(args.name, 'gate'), true, holderFrom(flags.holder));
  }
}
