import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class RWMutexStatus extends PrimitiveCommand {
  static override summary = 'Show who holds an rwmutex (the writer or the readers) and who waits to write';
  static override description = `state is held, free or expired (every lock has lapsed); phase is konductor's (Unlocked, ReadLocked, WriteLocked); each lock's expiresAt is when this machine's clock judges it lapsed unless renewed (docs/clock.md). waitingWriters are the writers new readers wait behind. Exit 6 when the rwmutex does not exist, 9 when its record is corrupt or the ConfigMap is not a koncli rwmutex.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> rwmutex status cache-lock', '<%= config.bin %> rwmutex status cache-lock -o json'];
  static override args = { name: primitiveNameArg('rwmutex') };

  async run(): Promise<void> {
    const { args } = await this.parse(RWMutexStatus);
    const name = this.nameOf(args.name, 'rwmutex');
    const ctx = await this.primitive('rwmutex');
    const { rwmutexKind, describeRWMutex } = await import('../../core/primitives/rwmutex.js');
    const doc = describeRWMutex(await this.readOne(ctx, rwmutexKind, name), ctx.clock);
    const line = (c: { holder: string; expiresAt: string | null; reason: string | null }) =>
      `${c.holder}${c.reason ? ` (${c.reason})` : ''} until ${c.expiresAt ?? 'unlocked'}`;
    await this.output.result(doc, () =>
      [
        `Name:      ${doc.namespace}/${doc.name}`,
        `State:     ${doc.state} (${doc.phase})`,
        `Writer:    ${doc.writer ? line(doc.writer) : '<none>'}`,
        `Readers:   ${doc.readers.length ? doc.readers.map(line).join(', ') : '<none>'}`,
        `Waiting:   ${doc.waitingWriters.length ? doc.waitingWriters.map((w) => w.holder).join(', ') : '<none>'}`,
        `Fencing:   ${doc.fencingToken}`,
        `TTL:       ${doc.ttlSeconds === null ? '-' : `${doc.ttlSeconds}s`}`,
      ].join('\n'),
    );
  }
}
