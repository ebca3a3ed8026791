import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { GateCommand } from '../../cli/gate-command.js';
import { primitiveNameArg } from '../../cli/primitive-command.js';

export default class GateClose extends GateCommand {
  static override summary = 'Close a gate opened by hand';
  static override description = `Undoes \`gate open\`. A gate whose conditions are all met stays open (as konductor's controller re-opens it); the result says which. Closing a closed gate changes nothing (outcome already-closed). Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> gate close deployment-gate'];
  static override args = { name: primitiveNameArg('gate') };

  async run(): Promise<void> {
    const { args } = await this.parse(GateClose);
    await this.setGate(this.nameOf(args.name, 'gate'), false, '');
  }
}
