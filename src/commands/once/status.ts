import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class OnceStatus extends PrimitiveCommand {
  static override summary = 'Show whether a once ran, who ran it, when, and with what exit code';
  static override description = `state: done (a run exited 0), running (a runner holds it; expiresAt: when its claim lapses unless renewed), failed (the last run failed or its runner died; the next \`once run\` takes over), pending (never run). Also the number of attempts and the last failure. Exit 6 when it does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> once status db-migrate-v42', '<%= config.bin %> once status db-migrate-v42 --json'];
  static override args = { name: primitiveNameArg('once') };

  async run(): Promise<void> {
    const { args } = await this.parse(OnceStatus);
    const name = this.nameOf(args.name, 'once');
    const ctx = await this.primitive('once');
    const { onceKind, describeOnce } = await import('../../core/primitives/once.js');
    const doc = describeOnce(await this.readOne(ctx, onceKind, name), ctx.clock);
    const f = doc.lastFailure;
    await this.output.result(doc, () =>
      [
        `Name:      ${doc.namespace}/${doc.name}`,
        `State:     ${doc.state}`,
        `Holder:    ${doc.holder ?? '<none>'}`,
        ...(doc.startedAt ? [`Started:   ${doc.startedAt}`] : []),
        ...(doc.finishedAt ? [`Finished:  ${doc.finishedAt} (exit ${doc.exitCode})`] : []),
        ...(doc.expiresAt ? [`Expires:   ${doc.expiresAt}`] : []),
        `Attempts:  ${doc.attempts}`,
        ...(f ? [`Last failure: ${f.holder} exited ${f.exitCode} at ${f.finishedAt}`] : []),
      ].join('\n'),
    );
  }
}
