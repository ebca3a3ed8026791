import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { SemaphoreCommand } from '../../cli/semaphore-command.js';
import { forceAuthor, forceFlags, ifHoldersFrom } from '../../cli/force-flags.js';
import { holderFlag, holderFrom } from '../../cli/holder.js';
import { semaphoreNameArg } from '../../cli/semaphore-flags.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { validateObjectName } from '../../cli/validate.js';
import { KoncliError, usageError } from '../../core/errors.js';
import type { SemaphoreContext } from '../../core/semaphore/model.js';
import type { KubeClient } from '../../kube/client.js';

export default class SemaphoreUnlock extends SemaphoreCommand {
  static override summary = "Free your slot of a semaphore (or, with --force, someone else's)";
  static override description = `Removes the holder from the semaphore (and drops holders whose --ttl has lapsed). Idempotent: when the holder has no slot (or the semaphore does not exist) it exits 0 with outcome already-free. With --force an operator removes other holders' slots: --if-holder X (repeatable) removes exactly those, only while every one of them still holds a slot (exit 5 otherwise, nothing changed); --dead removes exactly the holders judged dead with certainty (their Pod gone or finished, their Node not Ready: as koncli status judges them). Under --force, --holder names you, the operator (recorded in the Event), as for every kind. A --force that removes nothing fails: exit 6 when the semaphore does not exist, 5 when a named holder has no slot. An Event on the ConfigMap records the Kubernetes user who removed whom, and --reason.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> semaphore unlock db-restarts --holder $HOSTNAME',
    '<%= config.bin %> semaphore unlock db-restarts --force --if-holder stuck-pod-7 --if-holder stuck-pod-9   # remove stuck holders',
    '<%= config.bin %> semaphore unlock db-restarts --force --dead --reason "node lost"   # remove every holder judged dead',
  ];
  static override args = { name: semaphoreNameArg };
  static override flags = {
    holder: holderFlag,
    force: Flags.boolean({ description: "remove other holders' slots (name them with --if-holder, or --dead); records an Event" }),
    ...forceFlags,
    dead: Flags.boolean({ description: 'with --force: remove exactly the holders judged dead with certainty' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SemaphoreUnlock);
    const name = validateObjectName(args.name, 'semaphore');
    const given = ifHoldersFrom(flags['if-holder']);
    if ((given || flags.dead) && !flags.force) throw usageError('--if-holder and --dead apply to --force; add --force');
    if (flags.force && !given && !flags.dead)
      throw usageError('--force needs --if-holder X (the holders to remove) or --dead; --holder names you, the operator, as for every kind');
    const holder = holderFrom(flags.holder);
    if (this.onKonductor) {
      if (flags.dead) throw usageError('--dead is not supported with --kind konductor yet; name the holders to remove with --if-holder');
      return this.konductorRelease({ name, holder, force: flags.force, ifHolder: given, reason: flags.reason });
    }
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const { unlockSemaphore } = await import('../../core/semaphore/unlock.js');
    const ifHolder = flags.dead ? [...(given ?? []), ...(await this.deadHolders(client, ctx, name))] : given;
    const author = flags.force ? await forceAuthor(client, holder, flags.reason) : { by: holder };
    const result = await unlockSemaphore(ctx, { name, namespace: client.namespace, holder, force: flags.force, ifHolder, ...author });
    if (result.eventError) this.output.warn(`could not record the force-unlock Event: ${result.eventError}`);
    if (result.expired && !this.output.machine)
      this.output.warn(`the slot of ${result.removed[0] ?? holder} had already lapsed (its --ttl ran out) before this unlock`);
    const held = Object.keys(result.state?.holders ?? {});
    const slots = `${held.length}/${result.state?.max ?? 0} slots in use`;
    await this.output.result(
      {
        kind: 'semaphore',
        namespace: client.namespace,
        name,
        semaphore: name,
        holder,
        state: held.length === 0 ? 'free' : 'held',
        removed: result.removed,
        outcome: result.outcome,
        forced: result.forced,
        expired: result.expired,
        max: result.state?.max ?? null,
        holders: held,
        resourceVersion: result.object?.version ?? null,
      },
      () =>
        result.outcome === 'already-free'
          ? `${holder} holds no slot of semaphore ${name}${result.object ? ` (${slots})` : ' (it does not exist)'}; nothing to unlock`
          : `unlocked ${result.removed.join(', ')}${result.forced ? ' (forced)' : ''} from semaphore ${name} (${slots})`,
    );
  }

  /** The holders judged dead with certainty (alive: false), as koncli status judges them; not-held when none is. */
  private async deadHolders(client: KubeClient, ctx: SemaphoreContext, name: string): Promise<string[]> {
    const [{ readSemaphore }, { livenessJudge }] = await Promise.all([import('../../core/semaphore/read.js'), import('../../kube/liveness.js')]);
    const { state } = await this.oneShot(ctx.clock, () => readSemaphore(ctx, name, client.namespace));
    const judge = livenessJudge(client);
    const ids = Object.keys(state.holders);
    const verdicts = await Promise.all(ids.map((id) => judge(id, client.namespace)));
    const dead = ids.filter((_, i) => verdicts[i].alive === false);
    if (dead.length === 0) {
      const why = ids.map((id, i) => `${id}: ${verdicts[i].reason}`).join('; ');
      throw new KoncliError('not-held', `no holder of semaphore ${name} is judged dead (${why || 'it has no holders'}); nothing was broken`, { holders: ids });
    }
    return dead;
  }
}
