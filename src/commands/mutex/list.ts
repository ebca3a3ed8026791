import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand } from '../../cli/primitive-command.js';

export default class MutexList extends PrimitiveCommand {
  static override summary = 'List the mutexes of a namespace';
  static override description = `One row per mutex (ConfigMaps labelled koncli.dev/primitive=mutex): state, holder, expiry. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> mutex list', '<%= config.bin %> mutex list -n production --json'];

  async run(): Promise<void> {
    await this.parse(MutexList);
    const ctx = await this.primitive('mutex');
    const { listMutexes } = await import('../../core/primitives/mutex.js');
    await this.list(ctx, 'mutex', () => listMutexes(ctx), [
      ['HOLDER', (r) => r.holder ?? '<none>'],
      ['EXPIRES', (r) => r.expiresAt ?? '-'],
    ]);
  }
}
