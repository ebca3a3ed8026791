import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class MutexStatus extends PrimitiveCommand {
  static override summary = 'Show who holds a mutex, since when, and until when';
  static override description = `state is held, free or expired (the hold has lapsed: anyone may take it); expiresAt is when this machine's clock judges the hold lapsed unless renewed (docs/clock.md). Exit 6 when the mutex does not exist, 9 when its record is corrupt or the ConfigMap is not a koncli mutex.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> mutex status db-migration', '<%= config.bin %> mutex status db-migration -o json'];
  static override args = { name: primitiveNameArg('mutex') };

  async run(): Promise<void> {
    const { args } = await this.parse(MutexStatus);
    const name = this.nameOf(args.name, 'mutex');
    const ctx = await this.primitive('mutex');
    const { mutexKind, describeMutex } = await import('../../core/primitives/mutex.js');
    const doc = describeMutex(await this.readOne(ctx, mutexKind, name), ctx.clock);
    await this.output.result(doc, () =>
      [
        `Name:      ${doc.namespace}/${doc.name}`,
        `State:     ${doc.state}`,
        `Holder:    ${doc.holder ?? '<none>'}${doc.reason ? ` (${doc.reason})` : ''}`,
        ...(doc.holder ? [`Since:     ${doc.acquiredAt}`, `Expires:   ${doc.expiresAt ?? 'never'}`, `Fencing:   ${doc.fencingToken ?? '-'}`] : []),
        `TTL:       ${doc.ttlSeconds === null ? '-' : `${doc.ttlSeconds}s`}`,
      ].join('\n'),
    );
  }
}
