import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { ExitCode } from '../../cli/exit-codes.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class OnceCheck extends PrimitiveCommand {
  static override summary = 'Check whether a once has been executed (exit 0: yes, 3: not yet)';
  static override description = `Prints "once NAME has been executed" (exit 0) or "once NAME has not been executed" (exit ${ExitCode.BUSY}: pending, running, or its last run failed), as konductor's koncli words it, so its scripts' greps work; with --json the status document of \`once status\` and the same exit codes. Exit 6 when the once does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> once check app-init', '<%= config.bin %> once check app-init -n production'];
  static override args = { name: primitiveNameArg('once') };
  static override flags = {
    timeout: Flags.string({ description: "accepted for konductor's CLI; koncli bounds each request by --request-timeout", hidden: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(OnceCheck);
    const name = this.nameOf(args.name, 'once');
    const ctx = await this.primitive('once');
    const { onceKind, describeOnce } = await import('../../core/primitives/once.js');
    const doc = describeOnce(await this.readOne(ctx, onceKind, name), ctx.clock);
    const by = doc.executed ? ` (by ${doc.holder}, finished ${doc.finishedAt})` : doc.state === 'running' ? ` (running: ${doc.holder})` : ` (${doc.state})`;
    await this.output.result(doc, () => `once ${name} has ${doc.executed ? '' : 'not '}been executed${by}`);
    if (!doc.executed) process.exitCode = ExitCode.BUSY;
  }
}
