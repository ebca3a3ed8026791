import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { defaultHolder, holderFlag, holderFrom } from '../../cli/holder.js';
import { semaphoreNameArg } from '../../cli/semaphore-flags.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { validateObjectName } from '../../cli/validate.js';
import { usageError } from '../../core/errors.js';

export default class SemaphoreUnlock extends KoncliCommand {
  static override summary = "Free your slot of a semaphore (or, with --force, someone else's)";
  static override description = `Removes the holder from the semaphore (and drops holders whose --ttl has lapsed). Exits 5 (not-held) when the holder is not in the semaphore. With --force an operator removes another holder's slot: --holder then names the slot to remove (required), and an Event on the ConfigMap records who (KONCLI_HOLDER or the host name) removed whom.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> semaphore unlock db-restarts --holder $HOSTNAME',
    '<%= config.bin %> semaphore unlock db-restarts --force --holder stuck-pod-7   # remove a stuck holder',
  ];
  static override args = { name: semaphoreNameArg };
  static override flags = {
    holder: holderFlag,
    force: Flags.boolean({ description: "remove another holder's slot (name it with --holder); records an Event" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SemaphoreUnlock);
    const name = validateObjectName(args.name, 'semaphore');
    if (flags.force && flags.holder === undefined) throw usageError('--force needs --holder to name the slot to remove');
    const holder = holderFrom(flags.holder);
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const { unlockSemaphore } = await import('../../core/semaphore/unlock.js');
    const result = await unlockSemaphore(ctx, { name, namespace: client.namespace, holder, force: flags.force, by: defaultHolder() });
    if (result.eventError) this.output.warn(`could not record the force-unlock Event: ${result.eventError}`);
    if (result.expired && !this.output.machine) this.output.warn(`the slot of ${holder} had already lapsed (its --ttl ran out) before this unlock`);
    const held = Object.keys(result.state.holders);
    await this.output.result(
      {
        semaphore: name,
        namespace: client.namespace,
        holder,
        outcome: 'unlocked',
        forced: result.forced,
        expired: result.expired,
        max: result.state.max,
        holders: held,
        resourceVersion: result.object.version,
      },
      () => `unlocked ${holder}${result.forced ? ' (forced)' : ''} from semaphore ${name} (${held.length}/${result.state.max} slots in use)`,
    );
  }
}
