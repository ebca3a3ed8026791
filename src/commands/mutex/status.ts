import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { aliveText, listingFlags } from '../../cli/kind-listing.js';
import { optionalNameArg, PrimitiveCommand } from '../../cli/primitive-command.js';

export default class MutexStatus extends PrimitiveCommand {
  static override summary = 'Show who holds a mutex, since when, and until when (or list the mutexes)';
  static override description = `state is held, free or expired (the hold has lapsed: anyone may take it); expiresAt is when this machine's clock judges the hold lapsed unless renewed (docs/clock.md); whether the holder is alive and the command that breaks it safely, as koncli status judges them. Without NAME: the namespace's mutexes (-A: all namespaces) with koncli status's columns. Exit 6 when the mutex does not exist, 9 when its record is corrupt or the ConfigMap is not a koncli mutex.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> mutex status db-migration',
    '<%= config.bin %> mutex status db-migration -o json',
    '<%= config.bin %> mutex status -A',
  ];
  static override args = { name: optionalNameArg('mutex') };
  static override flags = listingFlags('mutexes');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MutexStatus);
    const load = () => import('../../core/primitives/mutex.js').then((m) => ({ kind: m.mutexKind, describe: m.describeMutex }));
    const doc = await this.statusOf(load, 'mutex', args.name, flags);
    if (!doc) return;
    await this.output.result(doc, () =>
      [
        `Name:      ${doc.namespace}/${doc.name}`,
        `State:     ${doc.state}`,
        `Holder:    ${doc.holder ?? '<none>'}${doc.reason ? ` (${doc.reason})` : ''}`,
        ...(doc.holder
          ? [
              `Since:     ${doc.acquiredAt}`,
              `Expires:   ${doc.expiresAt ?? 'never'}`,
              `Fencing:   ${doc.fencingToken ?? '-'}`,
              `Alive:     ${aliveText(doc)}`,
              ...(doc.breakCommand ? [`Break with: ${doc.breakCommand}`] : []),
            ]
          : []),
        `TTL:       ${doc.ttlSeconds === null ? '-' : `${doc.ttlSeconds}s`}`,
      ].join('\n'),
    );
  }
}
