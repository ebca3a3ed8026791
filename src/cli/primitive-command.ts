import type { GateStores } from '../core/primitives/gate-judge.js';
import { Args, Flags } from '@oclif/core';
import type { Decided, Planner, Read } from '../core/claim/engine.js';
import type { UnreadableRow } from '../core/claim/list.js';
import type { ClaimContext, ClaimKind, RecordObject } from '../core/claim/model.js';
import type { LockRow } from '../core/status/model.js';
import { KoncliError, usageError } from '../core/errors.js';
import type { ClaimRunEnd, ClaimRunFlags, ClaimRunSpec, RunClaim } from './claim-runner.js';
import { KoncliCommand } from './base-command.js';
import { breakArgs, commandLine, unlockCommandOf } from './break-commands.js';
import { formatDuration } from './duration.js';
import { listingFlags, type ListingFlagValues } from './kind-listing.js';
import { openPrimitive, type PrimitiveStorage } from './primitive-session.js';
import { renderTable } from './table.js';
import { validateObjectName } from './validate.js';

/** The flags of a kind's `list`: `koncli status`'s -A and -l (cli/kind-listing.ts). */
export const primitiveListFlags = (noun: string) => {
  const { 'all-namespaces': allNamespaces, selector } = listingFlags(noun);
  return { 'all-namespaces': allNamespaces, selector };
};

/** The parsed `primitiveListFlags`. */
export type PrimitiveListFlagValues = Pick<ListingFlagValues, 'all-namespaces' | 'selector'>;

/** NAME of a primitive (the ConfigMap, or with --kind konductor the konductor.io/v1 object, holding it). */
export const primitiveNameArg = (kind: string) =>
  Args.string({ name: 'NAME', description: `${kind} name (the ConfigMap holding it; --kind konductor: its konductor.io/v1 object)`, required: true });

/** NAME of `status`, which lists the kind without it. */
export const optionalNameArg = (kind: string) =>
  Args.string({
    name: 'NAME',
    description: `${kind} name (the ConfigMap holding it; --kind konductor: its konductor.io/v1 object); omit to list`,
    required: false,
  });

/** --wait / --timeout of the verbs that may wait (konductor's --timeout; 0 tries once). */
export const primitiveWaitFlags = (what: string) => ({
  wait: Flags.boolean({ description: `wait (by watching the object) until ${what}; without --timeout waits for ever` }),
  timeout: Flags.string({ description: 'give up waiting after this long (0: try once); implies --wait when not 0' }),
});

/** A primitive's `run` in the engine's terms: planners for the claim, its renewal and its release. */
export interface EngineRun<S, A> {
  acquire: Planner<S, A>;
  /** The claim `acquire` got, or undefined when there is nothing to run (a once already done). */
  claimOf: (acquired: A) => RunClaim<RecordObject> | undefined;
  lostIn: (state: S | null) => string | undefined;
  renew: Planner<S, RecordObject>;
  /** The write after the command exited with `commandExit` (step down, record the outcome). */
  release: (commandExit: number) => Planner<S, unknown>;
  env: Record<string, string>;
}

/** One row of `list` for a primitive, in the shared vocabulary. */
export interface ListedRow {
  kind: string;
  namespace: string | null;
  name: string | null;
  state: string;
  [field: string]: unknown;
}

/** What the commands of every primitive share: opening the kind's store, running a verb (waiting with a progress line), listing. */
export abstract class PrimitiveCommand extends KoncliCommand {
  static override baseFlags = {
    ...KoncliCommand.baseFlags,
    kind: Flags.option({
      description:
        'where the primitive lives: native (a labelled ConfigMap) or konductor (its konductor.io/v1 object: koncli crd install) (env KONCLI_PRIMITIVE_KIND)',
      options: ['native', 'konductor'] as const satisfies readonly PrimitiveStorage[],
      env: 'KONCLI_PRIMITIVE_KIND',
      default: 'native' as const,
      helpGroup: 'CLUSTER',
    })(),
  };

  protected storage: PrimitiveStorage = 'native';

  override async init(): Promise<void> {
    await super.init();
    const { flags } = await this.parse(this.ctor as typeof PrimitiveCommand);
    this.storage = flags.kind;
  }

  /** The kind's store on the selected cluster, namespace and storage (--kind). */
  /** Records a force's `ForceUnlocked` Event on the primitive's object (best effort: the break happened; a failure is a warning). */
  protected async recordForce(ctx: ClaimContext, name: string, message: string): Promise<void> {
    const obj = await ctx.store.get(name).catch(() => null);
    if (obj)
      await ctx.store.recordEvent(obj, 'ForceUnlocked', message).catch((err: Error) => this.output.warn(`could not record the force Event: ${err.message}`));
  }

  protected async primitive(kind: string): Promise<ClaimContext> {
    return openPrimitive(await this.kube(), kind, this.storage);
  }

  /** The stores a gate's conditions are judged through; its Barrier and Gate conditions on the same storage (--kind) as the gate. */
  protected async gateStores(): Promise<GateStores> {
    return (await import('./gate-session.js')).openGateStores(await this.kube(), this.storage);
  }

  /**
   * A busy error of `kind` NAME says the command that breaks it safely: `KIND unlock NAME --force
   * --if-holder H` for the holders its details name, when the kind has that command.
   */
  private armBreak(kind: string, name: string, namespace: string): void {
    const unlock = unlockCommandOf(this.config)(kind);
    if (!unlock) return;
    this.busyBreak = (d) => {
      const holders = typeof d.holder === 'string' && d.holder ? [d.holder] : Array.isArray(d.holders) ? d.holders.filter((h) => typeof h === 'string') : [];
      return holders.length && (holders.length === 1 || unlock.multiple)
        ? commandLine(breakArgs.primitive(kind, name, namespace, holders, this.storage === 'konductor'))
        : undefined;
    };
  }

  /** Validates NAME as an object name. */
  protected nameOf(name: string, kind: string): string {
    return validateObjectName(name, kind);
  }

  /** Runs one verb through the claim engine; with `wait`, under `waiting` (signals abort; a progress line on a terminal). */
  protected async verb<S, R>(
    ctx: ClaimContext,
    kind: ClaimKind<S>,
    name: string,
    plan: Planner<S, R>,
    wait: { wait: boolean; timeoutMs?: number },
    done: (r: R) => string,
  ): Promise<Decided<R>> {
    const { decide } = await import('../core/claim/engine.js');
    this.armBreak(kind.kind, name, ctx.store.namespace);
    return this.waiting({ wait: wait.wait, title: `waiting for ${kind.kind} ${name}`, done: (d) => done(d.result) }, ({ progress, ...opts }) =>
      decide(ctx, kind, name, plan, {
        ...wait,
        ...opts,
        onBlocked: (blocked, waitedMs) => progress?.update(`${blocked.message} (waited ${formatDuration(waitedMs)})`),
      }),
    );
  }

  /** One read (status), under the one-shot retry budget; `not-found` when it does not exist. */
  protected async readOne<S>(ctx: ClaimContext, kind: ClaimKind<S>, name: string): Promise<Read<S>> {
    const { readRecord } = await import('../core/claim/engine.js');
    const read = await this.oneShot(ctx.clock, () => readRecord(ctx, kind, name));
    if (!read.obj) throw new KoncliError('not-found', `${kind.kind} ${name} does not exist in namespace ${ctx.store.namespace}`);
    return read;
  }

  /**
   * `delete`: deletes the object guarded by its resourceVersion; `inUse(read)` (someone holds it) refuses
   * it with exit 3 unless `force`. Prints the result.
   */
  protected async deleteOne<S>(ctx: ClaimContext, kind: ClaimKind<S>, name: string, force: boolean, inUse: (read: Read<S>) => KoncliError | undefined) {
    const { deleteRecord } = await import('../core/claim/engine.js');
    const check = (read: Read<S>) => {
      const busy = force ? undefined : inUse(read);
      if (busy) throw new KoncliError('busy', `${busy.message}; not deleting it (add --force)`, busy.details);
    };
    await deleteRecord(ctx, kind, name, check, (m) => this.output.warn(m));
    await this.output.result({ kind: kind.kind, namespace: ctx.store.namespace, name, outcome: 'deleted' }, () => `deleted ${kind.kind} ${name}`);
  }

  /**
   * A `run` verb on the claim engine (cli/claim-runner.ts): `report` turns the run into the result
   * document (its `exitCode` becomes koncli's); when the claim cannot be had in time, the `busy`
   * outcome with `conflictExitCode`, and the command never starts.
   */
  protected async runClaimed<S, A>(
    claim: { kind: ClaimKind<S>; name: string; holder: string; ttlSeconds: number },
    spec: (ctx: ClaimContext) => EngineRun<S, A>,
    flags: ClaimRunFlags & { conflictExitCode: number },
    report: (run: ClaimRunEnd<A>) => { exitCode: number } & Record<string, unknown>,
  ): Promise<void> {
    const client = await this.kube();
    const ctx = await this.primitive(claim.kind.kind);
    const [{ runAndReport }, { decide }, { engineClaim }] = await Promise.all([
      import('./claim-runner.js'),
      import('../core/claim/engine.js'),
      import('../core/claim/keeper.js'),
    ]);
    const { kind, name } = claim;
    const run = spec(ctx);
    this.armBreak(kind.kind, name, ctx.store.namespace);
    const runSpec: ClaimRunSpec<RecordObject, A> = {
      ...claim,
      kind: kind.kind,
      namespace: client.namespace,
      clock: ctx.clock,
      acquire: async (opts) =>
        (await decide(ctx, kind, name, run.acquire, { ...opts, onBlocked: (blocked, waitedMs) => opts.onBlocked(blocked.message, waitedMs) })).result,
      claimOf: run.claimOf,
      keep: (c) => engineClaim(ctx, { kind, name, written: c.object, sentAt: c.sentAt, lostIn: run.lostIn, renew: run.renew }),
      release: (commandExit) => decide(ctx, kind, name, run.release(commandExit), { wait: false }),
      env: run.env,
    };
    await runAndReport(client, this.output, runSpec, flags, report, (err) => this.sayBusy(err, 'not running the command'));
  }

  /**
   * `status [NAME]`: without NAME lists the kind (`listKind`) and returns undefined; with it, the
   * kind's own description of NAME plus what `judged` adds. -A with NAME is a usage error.
   */
  protected async statusOf<S, D>(
    load: () => Promise<{ kind: ClaimKind<S>; describe: (read: Read<S>, clock: ClaimContext['clock']) => D }>,
    kindName: string,
    name: string | undefined,
    flags: ListingFlagValues,
  ): Promise<(D & Awaited<ReturnType<PrimitiveCommand['judged']>>) | undefined> {
    if (name === undefined) return void (await this.listKind(kindName, flags));
    if (flags['all-namespaces']) throw usageError(`-A lists every ${kindName}; pass either NAME or -A`);
    const valid = this.nameOf(name, kindName);
    const [ctx, { kind, describe }] = await Promise.all([this.primitive(kindName), load()]);
    const read = await this.readOne(ctx, kind, valid);
    return { ...describe(read, ctx.clock), ...(await this.judged(ctx, read.obj!)) };
  }

  /** `status` without NAME: `koncli status`'s listing of this kind on its storage (-A, -l, --system; cli/kind-listing.ts). */
  protected async listKind(kind: string, flags: ListingFlagValues): Promise<void> {
    const client = await this.kube();
    const [{ primitiveListerOf }, { printKindListing, scopeOf }] = await Promise.all([import('./lock-listers.js'), import('./kind-listing.js')]);
    const lister = primitiveListerOf(client, unlockCommandOf(this.config), this.storage, kind);
    await printKindListing(this.output, client, lister, scopeOf(flags), kind, (read) => this.oneShot(client.clock, read));
  }

  /** What `status NAME` adds (issue 23): the holders' liveness, the stuck verdict, the command that breaks it safely. */
  protected async judged(ctx: ClaimContext, obj: RecordObject): Promise<Pick<LockRow, 'alive' | 'aliveReason' | 'stuck' | 'breakCommand'>> {
    const client = await this.kube();
    const [{ primitiveListerOf }, { judgeOne }, { primitiveRow }] = await Promise.all([
      import('./lock-listers.js'),
      import('./kind-listing.js'),
      import('../core/status/primitive-row.js'),
    ]);
    const row = await judgeOne(client, primitiveListerOf(client, unlockCommandOf(this.config), this.storage), primitiveRow(obj, ctx));
    return { alive: row.alive, aliveReason: row.aliveReason, stuck: row.stuck, breakCommand: row.breakCommand };
  }

  /**
   * `list`: every object of the kind in the namespace (-A: every namespace, NAMESPACE column first;
   * -l narrows by labels, as kubectl), described (core/claim/list.ts); a kubectl-like table for people.
   * `lister` lists through the context it is given, whose store covers that scope.
   */
  protected async list<D extends ListedRow>(
    kind: string,
    flags: PrimitiveListFlagValues,
    lister: (ctx: ClaimContext) => Promise<(D | UnreadableRow)[]>,
    columns: [string, (r: D) => string][],
  ) {
    const all = flags['all-namespaces'];
    const ctx = await openPrimitive(await this.kube(), kind, this.storage, { allNamespaces: all, labelSelector: flags.selector });
    const items = await this.oneShot(ctx.clock, () => lister(ctx));
    const row = (r: D | UnreadableRow) => [...(all ? [r.namespace ?? ''] : []), r.name ?? '', r.state, ...columns.map(([, f]) => ('error' in r ? '' : f(r)))];
    const headers = [...(all ? ['NAMESPACE'] : []), 'NAME', 'STATE', ...columns.map(([h]) => h)];
    const none = `No ${kind} found${all ? '' : ` in namespace ${ctx.store.namespace}`}.`;
    await this.output.result({ items }, () => (items.length === 0 ? none : renderTable(headers, items.map(row))));
  }
}
