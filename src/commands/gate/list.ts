import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand } from '../../cli/primitive-command.js';

export default class GateList extends PrimitiveCommand {
  static override summary = 'List the gates of a namespace';
  static override description = `One row per gate (ConfigMaps labelled koncli.dev/primitive=gate), its conditions judged now. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> gate list'];

  async run(): Promise<void> {
    await this.parse(GateList);
    const client = await this.kube();
    const ctx = await this.primitive('gate');
    const [{ openGateStores }, { listGates }] = await Promise.all([import('../../cli/gate-session.js'), import('../../core/primitives/gate-judge.js')]);
    const stores = await openGateStores(client);
    await this.list(ctx, 'gate', () => listGates(stores, client.namespace), [
      ['CONDITIONS', (r) => `${r.conditionsMet}/${r.conditionsTotal}`],
      ['OPENED-BY', (r) => r.openedBy ?? '-'],
    ]);
  }
}
