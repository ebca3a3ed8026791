import { Args, Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration, parseTtlSeconds } from '../../cli/duration.js';
import { breakArgs, commandLine } from '../../cli/break-commands.js';
import { forceAuthor, forceFlags, ifHoldersFrom } from '../../cli/force-flags.js';
import { defaultHolder } from '../../cli/holder.js';
import { openKubelocks, parseTarget } from '../../cli/kubelock-session.js';
import { validateHolder, validateKeyName } from '../../cli/validate.js';
import { waitOptions } from '../../cli/wait-options.js';
import type { AcquireLockResult } from '../../core/kubelock/acquire.js';
import type { LockView } from '../../core/kubelock/decide.js';
import type { KubelockContext } from '../../core/kubelock/model.js';
import type { ReleaseLockResult } from '../../core/kubelock/release.js';
import { wallTimeOf } from '../../core/clock.js';
import { usageError } from '../../core/errors.js';

export default class KubelockAnnotate extends KoncliCommand {
  static override summary = 'Take, refresh or release a named lock kept in an annotation on any object';
  static override description = `The lock is the annotation kubelock.giantswarm.io/<lock> in giantswarm/kubelock's format ({"owner","createdAt","ttl"}), so koncli and that library honour each other's locks. TYPE is resolved as kubectl does (cm, configmap, deployments.apps, deploy, ns, a CRD's kind, plural or short name).

Taking a free or expired lock acquires it; taking one the same --holder (giantswarm's owner; --owner is the same flag) holds refreshes it (new createdAt, the given --ttl); another owner's live lock is busy (exit 3), or with --wait is waited for by watching the object. Expiry is judged on this machine's clock from the server's own time of the annotation's last write, never from createdAt (docs/kubelock.md).

--release removes the annotation (also when it has expired) if --holder holds it; --force removes another owner's lock and records an Event on the object naming the Kubernetes user who broke it and --reason; with --if-holder X only while X still owns it (exit 5 otherwise, nothing changed). Releasing your own lock that is not there (or on an object that does not exist) is idempotent: exit 0, outcome already-free; a --force that breaks nothing fails (exit 6 when the object does not exist, 5 when the lock is not there).${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> kubelock annotate configmap/cluster-config --lock ip-allocation --owner operator-v1.2.0',
    '<%= config.bin %> kubelock annotate deployments.apps/web --lock rollout --holder $HOSTNAME --ttl 2m --wait --timeout 5m',
    '<%= config.bin %> kubelock annotate namespace/team-a --lock quota --owner ci-1234 --release',
    '<%= config.bin %> kubelock annotate cm/cluster-config --lock ip-allocation --release --force --if-holder operator-v1.2.0',
  ];
  static override args = {
    'TYPE/NAME': Args.string({ description: 'the object carrying the lock, e.g. configmap/foo, deployments.apps/web, namespace/team-a', required: true }),
  };
  static override flags = {
    lock: Flags.string({ description: 'lock name: the annotation kubelock.giantswarm.io/<lock>', required: true }),
    holder: Flags.string({
      aliases: ['owner'],
      description:
        "who takes or holds the lock, giantswarm's owner (--owner is the same flag; env KONCLI_HOLDER; default: the host name, i.e. the Pod name inside a Pod)",
    }),
    ttl: Flags.string({ description: 'how long the lock lasts after it is written (whole seconds)', default: '5m' }),
    release: Flags.boolean({ description: 'remove the lock instead of taking it' }),
    force: Flags.boolean({ description: "with --release: remove another owner's lock; records an Event on the object" }),
    'if-holder': forceFlags['if-holder'],
    reason: forceFlags.reason,
    wait: Flags.boolean({ description: 'wait (by watching the object) until the lock can be had; without --timeout waits for ever' }),
    timeout: Flags.string({ description: 'give up waiting after this long (0: try once); implies --wait when not 0' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(KubelockAnnotate);
    const target = parseTarget(args['TYPE/NAME']);
    const lock = validateKeyName(flags.lock, '--lock');
    const ifHolder = ifHoldersFrom(flags['if-holder']);
    if (ifHolder && !(flags.force && flags.release)) throw usageError('--if-holder applies to --release --force');
    const owner = validateHolder(flags.holder ?? defaultHolder(), 'holder');
    const ttlSeconds = parseTtlSeconds(flags.ttl);
    const wait = waitOptions(flags);
    if (flags.force && !flags.release) throw usageError('--force only applies to --release');
    if (flags.release && (flags.wait || flags.timeout !== undefined)) throw usageError('--wait and --timeout do not apply to --release');
    const client = await this.kube();
    const ctx = await openKubelocks(client, target.type);
    const where = {
      kind: 'kubelock',
      namespace: ctx.store.namespace ?? null,
      name: `${ctx.store.displayName}/${target.name}`,
      object: `${ctx.store.displayName}/${target.name}`,
      lock,
      annotation: `kubelock.giantswarm.io/${lock}`,
    };
    const what = ctx.store.describe(target.name);
    this.busyBreak = (d) =>
      typeof d.owner === 'string' && d.owner ? commandLine(breakArgs.kubelock(where.object, lock, ctx.store.namespace ?? null, [d.owner])) : undefined;
    if (flags.release) {
      const { releaseLock } = await import('../../core/kubelock/release.js');
      const author = flags.force ? await forceAuthor(client, owner, flags.reason) : undefined;
      const result = await releaseLock(ctx, { name: target.name, lock, owner, force: flags.force, ifHolder }, author);
      if (result.eventError) this.output.warn(`could not record the force-release Event: ${result.eventError}`);
      await this.output.result({ ...where, holder: owner, owner, state: 'free', ...result }, () => releasedText(lock, what, result));
      return;
    }
    const { acquireLock } = await import('../../core/kubelock/acquire.js');
    const title = `waiting for lock ${lock} on ${what}`;
    const result = await this.waiting<AcquireLockResult>(
      { wait: wait.wait, title, done: (r) => `${r.outcome} lock ${lock} on ${what}` },
      ({ progress, ...opts }) =>
        acquireLock(
          ctx,
          { name: target.name, lock, owner, ttlNs: BigInt(ttlSeconds) * 1_000_000_000n },
          {
            ...wait,
            ...opts,
            onProgress: (view, waitedMs) => progress?.update(`${title}: ${heldText(ctx, view, waitedMs)}`),
          },
        ),
    );
    await this.output.result(
      takenDoc(ctx, { ...where, holder: owner, owner }, ttlSeconds, result),
      () => `${result.outcome} lock ${lock} on ${what} as ${owner} for ${formatDuration(ttlSeconds * 1000)}`,
    );
  }
}

function heldText(ctx: KubelockContext, view: LockView, waitedMs: number): string {
  const left = view.expiresAt !== undefined ? `, expires within ${formatDuration(view.expiresAt - ctx.clock.now())}` : '';
  return `held by ${view.data?.owner}${left} (waited ${formatDuration(waitedMs)})`;
}

function releasedText(lock: string, what: string, result: ReleaseLockResult): string {
  if (result.outcome === 'already-free') return `there is no lock ${lock} on ${what}; nothing to release`;
  const notes = [result.forced ? `removed ${JSON.stringify(result.previousOwner)}'s lock` : '', result.expired ? 'it had expired' : ''].filter(Boolean);
  return `released lock ${lock} on ${what}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

function takenDoc(ctx: KubelockContext, where: Record<string, unknown>, ttlSeconds: number, result: AcquireLockResult) {
  return {
    ...where,
    outcome: result.outcome,
    state: 'held',
    expiresAt: new Date(wallTimeOf(ctx.clock, result.expiresAt)).toISOString(),
    // The resourceVersion of the write that took the lock: it only grows (kubelock run's KONCLI_FENCING_TOKEN).
    fencingToken: result.object.version,
    previousOwner: result.previousOwner,
    createdAt: result.data.createdAt,
    ttlSeconds,
    expires: new Date(wallTimeOf(ctx.clock, result.expiresAt)).toISOString(),
    resourceVersion: result.object.version,
    waitedMs: Math.round(result.waitedMs),
  };
}
