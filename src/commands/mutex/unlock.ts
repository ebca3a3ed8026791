import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { validateHolder } from '../../cli/validate.js';

export default class MutexUnlock extends PrimitiveCommand {
  static override summary = 'Unlock a mutex you hold (or break another holder with --force)';
  static override description = `Unlocking a hold that is already gone (lapsed, broken, or the mutex deleted) succeeds with outcome already-free, so cleanup after a crash works. Someone else's live hold: exit 5 (not-held), unless --force, which breaks it (recorded as an Event on the ConfigMap); with --if-holder X only while X still holds it. A --force that breaks nothing fails: exit 6 when the mutex does not exist, 5 when nobody holds it.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> mutex unlock db-migration --holder $HOSTNAME',
    '<%= config.bin %> mutex unlock db-migration --force --if-holder crashed-pod-7',
  ];
  static override args = { name: primitiveNameArg('mutex') };
  static override flags = {
    holder: holderFlag,
    force: Flags.boolean({ description: "break the mutex whoever holds it (an operator's action, recorded as an Event)" }),
    'if-holder': Flags.string({ description: 'with --force: break it only while this holder holds it', dependsOn: ['force'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(MutexUnlock);
    const name = this.nameOf(args.name, 'mutex');
    const holder = holderFrom(flags.holder);
    const ifHolder = flags['if-holder'] === undefined ? undefined : validateHolder(flags['if-holder'], 'if-holder');
    const ctx = await this.primitive('mutex');
    const { mutexKind, planMutexUnlock } = await import('../../core/primitives/mutex.js');
    const { result } = await this.verb(
      ctx,
      mutexKind,
      name,
      planMutexUnlock({ name, namespace: ctx.store.namespace, holder, force: flags.force, ifHolder }),
      { wait: false },
      () => '',
    );
    if (result.outcome === 'broken') await this.recordForce(ctx, name, `${holder} broke mutex ${name} held by ${result.previousHolder}`);
    const doc = { kind: 'mutex', namespace: ctx.store.namespace, name, holder, outcome: result.outcome, state: 'free', previousHolder: result.previousHolder };
    const text = {
      released: `unlocked mutex ${name}`,
      'already-free': `mutex ${name} was not held by ${holder}; nothing to unlock`,
      broken: `broke mutex ${name} (held by ${result.previousHolder})`,
    };
    await this.output.result(doc, () => text[result.outcome]);
  }
}
