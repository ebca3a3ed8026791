import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { validateHolder } from '../../cli/validate.js';

export default class RWMutexUnlock extends PrimitiveCommand {
  static override summary = 'Release your read or write lock of an rwmutex (or break others with --force)';
  static override description = `Releases the lock --holder has, read or write (and any waiting-writer record of it). A lock already gone (lapsed, broken, or the rwmutex deleted) succeeds with outcome already-free, so cleanup after a crash works; while another holder has the write lock: exit 5 (not-held). --force breaks every lock (recorded as an Event on the ConfigMap); with --if-holder X only X's lock, only while X holds it. A --force that breaks nothing fails: exit 6 when the rwmutex does not exist, 5 when nobody holds it.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> rwmutex unlock cache-lock --holder $HOSTNAME',
    '<%= config.bin %> rwmutex unlock cache-lock --force --if-holder crashed-pod-7',
  ];
  static override args = { name: primitiveNameArg('rwmutex') };
  static override flags = {
    holder: holderFlag,
    force: Flags.boolean({ description: "break others' locks (an operator's action, recorded as an Event)" }),
    'if-holder': Flags.string({ description: "with --force: break only this holder's lock, only while it holds it", dependsOn: ['force'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RWMutexUnlock);
    const name = this.nameOf(args.name, 'rwmutex');
    const holder = holderFrom(flags.holder);
    const ifHolder = flags['if-holder'] === undefined ? undefined : validateHolder(flags['if-holder'], 'if-holder');
    const ctx = await this.primitive('rwmutex');
    const { rwmutexKind, planRWUnlock } = await import('../../core/primitives/rwmutex.js');
    const { result } = await this.verb(
      ctx,
      rwmutexKind,
      name,
      planRWUnlock({ name, namespace: ctx.store.namespace, holder, force: flags.force, ifHolder }),
      { wait: false },
      () => '',
    );
    if (result.outcome === 'broken')
      await this.recordForce(ctx, name, `${holder} broke the ${result.mode} lock of rwmutex ${name} held by ${result.released.join(', ')}`);
    const doc = {
      kind: 'rwmutex',
      namespace: ctx.store.namespace,
      name,
      holder,
      outcome: result.outcome,
      state: 'free',
      mode: result.mode,
      released: result.released,
    };
    const text = {
      released: `released the ${result.mode} lock of rwmutex ${name}`,
      'already-free': `rwmutex ${name} was not locked by ${holder}; nothing to unlock`,
      broken: `broke the ${result.mode} lock of rwmutex ${name} (held by ${result.released.join(', ')})`,
    };
    await this.output.result(doc, () => text[result.outcome]);
  }
}
