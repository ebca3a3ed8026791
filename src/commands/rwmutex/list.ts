import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveListFlags } from '../../cli/primitive-command.js';

export default class RWMutexList extends PrimitiveCommand {
  static override summary = 'List the rwmutexes of a namespace';
  static override description = `One row per rwmutex (ConfigMaps labelled koncli.dev/primitive=rwmutex; --kind konductor: rwmutexes.konductor.io objects), in the namespace or with -A in all, -l selecting by label: state, konductor's phase (Unlocked, ReadLocked, WriteLocked), the writer, the readers, the waiting writers. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> rwmutex list', '<%= config.bin %> rwmutex list -n production'];

  static override flags = primitiveListFlags('rwmutexes');

  async run(): Promise<void> {
    const { flags } = await this.parse(RWMutexList);
    const { listRWMutexes } = await import('../../core/primitives/rwmutex.js');
    await this.list('rwmutex', flags, listRWMutexes, [
      ['PHASE', (r) => r.phase],
      ['WRITER', (r) => r.holder ?? '<none>'],
      ['READERS', (r) => String(r.holders.length)],
      ['WAITING', (r) => r.waitingWriters.map((w) => w.holder).join(',') || '<none>'],
    ]);
  }
}
