import { Args, Flags } from '@oclif/core';
import type { Decided, Planner, Read } from '../core/claim/engine.js';
import type { UnreadableRow } from '../core/claim/list.js';
import type { ClaimContext, ClaimKind } from '../core/claim/model.js';
import { isKind, KoncliError } from '../core/errors.js';
import type { ClaimRunEnd, ClaimRunFlags, ClaimRunSpec } from './claim-runner.js';
import { KoncliCommand } from './base-command.js';
import { formatDuration } from './duration.js';
import { openPrimitive, type PrimitiveStorage } from './primitive-session.js';
import { renderTable } from './table.js';
import { validateObjectName } from './validate.js';

/** NAME of a primitive (the ConfigMap, or with --kind konductor the konductor.io/v1 object, holding it). */
export const primitiveNameArg = (kind: string) =>
  Args.string({ name: 'NAME', description: `${kind} name (the ConfigMap holding it; --kind konductor: its konductor.io/v1 object)`, required: true });

/** --wait / --timeout of the verbs that may wait (konductor's --timeout; 0 tries once). */
export const primitiveWaitFlags = (what: string) => ({
  wait: Flags.boolean({ description: `wait (by watching the object) until ${what}; without --timeout waits for ever` }),
  timeout: Flags.string({ description: 'give up waiting after this long (0: try once); implies --wait when not 0' }),
});

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

  private storage: PrimitiveStorage = 'native';

  override async init(): Promise<void> {
    await super.init();
    const { flags } = await this.parse(this.ctor as typeof PrimitiveCommand);
    this.storage = flags.kind;
  }

  /** The kind's store on the selected cluster, namespace and storage (--kind). */
  protected async primitive(kind: string): Promise<ClaimContext> {
    return openPrimitive(await this.kube(), kind, this.storage);
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
    spec: (ctx: ClaimContext) => Omit<ClaimRunSpec<S, A>, 'ctx' | 'kind' | 'name' | 'holder' | 'ttlSeconds'>,
    flags: ClaimRunFlags & { conflictExitCode: number },
    report: (run: ClaimRunEnd<A>) => { exitCode: number } & Record<string, unknown>,
  ): Promise<void> {
    const client = await this.kube();
    const ctx = await this.primitive(claim.kind.kind);
    const { runUnderClaim } = await import('./claim-runner.js');
    const base = { kind: claim.kind.kind, namespace: client.namespace, name: claim.name, holder: claim.holder };
    try {
      const doc = report(await runUnderClaim(client, this.output, { ctx, ...claim, ...spec(ctx) }, flags));
      await this.output.result({ ...base, ...doc }, () => '');
      process.exitCode = doc.exitCode;
    } catch (err) {
      if (!isKind(err, 'busy')) throw err;
      this.output.error(`${err.message}; not running the command`);
      await this.output.result({ ...base, outcome: 'busy', ran: false, exitCode: flags.conflictExitCode }, () => '');
      process.exitCode = flags.conflictExitCode;
    }
  }

  /** `list`: every object of the kind, described (core/claim/list.ts); a kubectl-like table for people. */
  protected async list<D extends ListedRow>(
    ctx: ClaimContext,
    kind: string,
    lister: () => Promise<(D | UnreadableRow)[]>,
    columns: [string, (r: D) => string][],
  ) {
    const items = await this.oneShot(ctx.clock, lister);
    const row = (r: D | UnreadableRow) => [r.name ?? '', r.state, ...columns.map(([, f]) => ('error' in r ? '' : f(r)))];
    const table = () =>
      items.length === 0 ? `No ${kind} found in namespace ${ctx.store.namespace}.` : renderTable(['NAME', 'STATE', ...columns.map(([h]) => h)], items.map(row));
    await this.output.result({ items }, table);
  }
}
