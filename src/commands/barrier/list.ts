import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveListFlags } from '../../cli/primitive-command.js';

export default class BarrierList extends PrimitiveCommand {
  static override summary = 'List the barriers of a namespace';
  static override description = `One row per barrier (ConfigMaps labelled koncli.dev/primitive=barrier; --kind konductor: barriers.konductor.io objects), in the namespace or with -A in all, -l selecting by label: state, arrivals, expected, when it opened. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> barrier list', '<%= config.bin %> barrier list -n production --json'];

  static override flags = primitiveListFlags('barriers');

  async run(): Promise<void> {
    const { flags } = await this.parse(BarrierList);
    const { listBarriers } = await import('../../core/primitives/barrier.js');
    await this.list('barrier', flags, listBarriers, [
      ['ARRIVED', (r) => String(r.arrived)],
      ['EXPECTED', (r) => String(r.expected)],
      ['OPENED', (r) => r.openedAt ?? '-'],
    ]);
  }
}
