import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand } from '../../cli/primitive-command.js';

export default class WaitGroupList extends PrimitiveCommand {
  static override summary = 'List the wait groups of a namespace';
  static override description = `One row per wait group (ConfigMaps labelled koncli.dev/primitive=waitgroup): state and counter. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup list'];

  async run(): Promise<void> {
    await this.parse(WaitGroupList);
    const ctx = await this.primitive('waitgroup');
    const { listWaitGroups } = await import('../../core/primitives/waitgroup.js');
    await this.list(ctx, 'waitgroup', () => listWaitGroups(ctx), [['COUNTER', (r) => String(r.counter)]]);
  }
}
