import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveListFlags } from '../../cli/primitive-command.js';

export default class MutexList extends PrimitiveCommand {
  static override summary = 'List the mutexes of a namespace';
  static override description = `One row per mutex (ConfigMaps labelled koncli.dev/primitive=mutex; --kind konductor: mutexes.konductor.io objects), in the namespace or with -A in all, -l selecting by label: state, holder, expiry. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> mutex list',
    '<%= config.bin %> mutex list -A -l team=db',
    '<%= config.bin %> mutex list -n production --json',
  ];

  static override flags = primitiveListFlags('mutexes');

  async run(): Promise<void> {
    const { flags } = await this.parse(MutexList);
    const { listMutexes } = await import('../../core/primitives/mutex.js');
    await this.list('mutex', flags, listMutexes, [
      ['HOLDER', (r) => r.holder ?? '<none>'],
      ['EXPIRES', (r) => r.expiresAt ?? '-'],
    ]);
  }
}
