import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { aliveText, listingFlags } from '../../cli/kind-listing.js';
import { optionalNameArg, PrimitiveCommand } from '../../cli/primitive-command.js';

export default class OnceStatus extends PrimitiveCommand {
  static override summary = 'Show whether a once ran, who ran it, when, and with what exit code (or list them)';
  static override description = `state: done (a run exited 0), running (a runner holds it; expiresAt: when its claim lapses unless renewed), failed (the last run failed or its runner died; the next \`once run\` takes over), pending (never run). Also the number of attempts, the last failure, and whether a runner is alive (as koncli status judges it). Without NAME: the namespace's onces (-A: all namespaces) with koncli status's columns. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> once status db-migrate-v42',
    '<%= config.bin %> once status db-migrate-v42 --json',
    '<%= config.bin %> once status -A',
  ];
  static override args = { name: optionalNameArg('once') };
  static override flags = listingFlags('onces');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(OnceStatus);
    const load = () => import('../../core/primitives/once.js').then((m) => ({ kind: m.onceKind, describe: m.describeOnce }));
    const doc = await this.statusOf(load, 'once', args.name, flags);
    if (!doc) return;
    const f = doc.lastFailure;
    await this.output.result(doc, () =>
      [
        `Name:      ${doc.namespace}/${doc.name}`,
        `State:     ${doc.state}`,
        `Holder:    ${doc.holder ?? '<none>'}`,
        ...(doc.state === 'running' ? [`Alive:     ${aliveText(doc)}`] : []),
        ...(doc.startedAt ? [`Started:   ${doc.startedAt}`] : []),
        ...(doc.finishedAt ? [`Finished:  ${doc.finishedAt} (exit ${doc.exitCode})`] : []),
        ...(doc.expiresAt ? [`Expires:   ${doc.expiresAt}`] : []),
        `Attempts:  ${doc.attempts}`,
        ...(f ? [`Last failure: ${f.holder} exited ${f.exitCode} at ${f.finishedAt}`] : []),
      ].join('\n'),
    );
  }
}
