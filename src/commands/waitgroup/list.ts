import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveListFlags } from '../../cli/primitive-command.js';

export default class WaitGroupList extends PrimitiveCommand {
  static override summary = 'List the wait groups of a namespace';
  static override description = `One row per wait group (ConfigMaps labelled koncli.dev/primitive=waitgroup; --kind konductor: waitgroups.konductor.io objects), in the namespace or with -A in all, -l selecting by label: state and counter. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup list'];

  static override flags = primitiveListFlags('waitgroups');

  async run(): Promise<void> {
    const { flags } = await this.parse(WaitGroupList);
    const { listWaitGroups } = await import('../../core/primitives/waitgroup.js');
    await this.list('waitgroup', flags, listWaitGroups, [['COUNTER', (r) => String(r.counter)]]);
  }
}
