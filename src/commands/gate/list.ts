import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveListFlags } from '../../cli/primitive-command.js';

export default class GateList extends PrimitiveCommand {
  static override summary = 'List the gates of a namespace';
  static override description = `One row per gate (ConfigMaps labelled koncli.dev/primitive=gate; --kind konductor: gates.konductor.io objects), in the namespace or with -A in all, -l selecting by label, its conditions judged now. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> gate list'];

  static override flags = primitiveListFlags('gates');

  async run(): Promise<void> {
    const { flags } = await this.parse(GateList);
    const { listGates } = await import('../../core/primitives/gate-judge.js');
    const stores = await this.gateStores();
    await this.list('gate', flags, (ctx) => listGates(stores, ctx.store), [
      ['CONDITIONS', (r) => `${r.conditionsMet}/${r.conditionsTotal}`],
      ['OPENED-BY', (r) => r.openedBy ?? '-'],
    ]);
  }
}
