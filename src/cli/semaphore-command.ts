import { wallTimeOf } from '../core/clock.js';
import type { Claim, ClaimContext } from '../core/claim/model.js';
import type { PermitAcquired, PermitReleased, PermitsState } from '../core/primitives/permits.js';
import type { ClaimRunFlags } from './claim-runner.js';
import type { KonductorSemaphoreStore } from '../kube/konductor-semaphore-store.js';
import { formatDuration } from './duration.js';
import { PrimitiveCommand, type PrimitiveListFlagValues } from './primitive-command.js';

export interface KonductorAcquire {
  name: string;
  holder: string;
  ttlSeconds?: number;
  reason?: string;
  /** Create the Semaphore with this many permits when absent (`semaphore lock --create`). */
  createWith?: number;
  /** --max (--permits): must match the Semaphore's spec.permits. */
  max?: number;
  wait: { wait: boolean; timeoutMs?: number };
}

const slotsOf = (state: { permits: number; holders: Claim[]; foreign: Claim[] } | null) =>
  state ? `${state.holders.length + state.foreign.length}/${state.permits} permits in use` : 'it does not exist';

/** The keys every semaphore verb's document starts with (`semaphore` = `name`, kept for old scripts: docs/json.md). */
const headOf = (ctx: ClaimContext, name: string, holder: string) => ({ kind: 'semaphore', namespace: ctx.store.namespace, name, semaphore: name, holder });

/**
 * The semaphore verbs: kube-lock ConfigMaps by default (the commands' own code), konductor.io/v1
 * Semaphores with `--kind konductor` (here: core/primitives/permits.ts on the claim engine, through
 * kube/konductor-semaphore-store.ts, with a Permit per holder as konductor's readable mirror).
 * The result documents use the kube-lock verbs' keys (docs/json.md).
 */
export abstract class SemaphoreCommand extends PrimitiveCommand {
  /** `--kind konductor` (or KONCLI_PRIMITIVE_KIND=konductor). */
  protected get onKonductor(): boolean {
    return this.storage === 'konductor';
  }

  private async konductorContext(): Promise<{ ctx: ClaimContext; store: KonductorSemaphoreStore }> {
    const ctx = await this.primitive('semaphore');
    return { ctx, store: ctx.store as KonductorSemaphoreStore };
  }

  protected async konductorCreate(name: string, permits: number, ttlSeconds: number | undefined): Promise<void> {
    const { ctx } = await this.konductorContext();
    const { permitsKind, planPermitsCreate } = await import('../core/primitives/permits.js');
    const { result } = await this.verb(ctx, permitsKind, name, planPermitsCreate(name, permits, ttlSeconds), { wait: false }, () => '');
    const doc = {
      kind: 'semaphore',
      namespace: ctx.store.namespace,
      name,
      outcome: result.outcome,
      max: permits,
      ttlSeconds: ttlSeconds ?? null,
      resourceVersion: result.object.version,
    };
    await this.output.result(doc, () =>
      result.outcome === 'created' ? `created semaphore ${name} with ${permits} permits` : `semaphore ${name} already exists`,
    );
  }

  protected async konductorAcquire(req: KonductorAcquire): Promise<void> {
    const { ctx, store } = await this.konductorContext();
    const { permitsKind, planPermitAcquire } = await import('../core/primitives/permits.js');
    const { name, holder } = req;
    const plan = planPermitAcquire({ ...req, namespace: ctx.store.namespace }, ctx.clock);
    const { result, waitedMs } = await this.verb(ctx, permitsKind, name, plan, req.wait, () => `acquired a permit of semaphore ${name}`);
    await this.mirrorAcquired(store, result);
    const ttl = result.claim.ttlSeconds ?? null;
    const heldUntil = ttl === null ? null : new Date(wallTimeOf(ctx.clock, result.sentAt + ttl * 1000)).toISOString();
    const holders = result.state.holders.map((c) => c.holder);
    const doc = {
      ...headOf(ctx, name, holder),
      outcome: result.outcome,
      state: 'held',
      expiresAt: heldUntil,
      fencingToken: result.object.version,
      created: result.created,
      max: result.state.permits,
      holders: [...holders, ...result.state.foreign.map((c) => c.holder)],
      ttlSeconds: ttl,
      heldUntil,
      resourceVersion: result.object.version,
      waitedMs: Math.round(waitedMs),
    };
    const forTtl = ttl === null ? '' : ` for ${formatDuration(ttl * 1000)}`;
    await this.output.result(doc, () => `${result.outcome} a permit of semaphore ${name} as ${holder}${forTtl} (${slotsOf(result.state)})`);
  }

  /** The mirror Permit of the new claim, and the removal of the mirrors of lapsed holders the write dropped; failures are warnings. */
  private async mirrorAcquired(store: KonductorSemaphoreStore, result: PermitAcquired): Promise<void> {
    const warnings = [await store.mirror(result.object, result.claim), await store.unmirror(result.object.name, result.pruned)];
    for (const w of warnings) if (w) this.output.warn(w);
  }

  protected async konductorRelease(req: { name: string; holder: string; force: boolean; ifHolder?: string[]; reason?: string }): Promise<void> {
    const { ctx, store } = await this.konductorContext();
    const { permitsKind, planPermitRelease } = await import('../core/primitives/permits.js');
    const { name, holder } = req;
    const { result } = await this.verb(ctx, permitsKind, name, planPermitRelease({ ...req, namespace: ctx.store.namespace }), { wait: false }, () => '');
    await this.cleanUp(store, name, result);
    if (result.outcome === 'broken')
      await this.recordForce(
        ctx,
        name,
        `${holder} removed ${[...result.removed, ...result.foreignPermits].join(', ')} from semaphore ${name}${req.reason ? `: ${req.reason}` : ''}`,
      );
    const held = result.state ? [...result.state.holders, ...result.state.foreign.filter((c) => !result.foreignPermits.includes(c.permit))] : [];
    const doc = {
      ...headOf(ctx, name, holder),
      state: held.length === 0 ? 'free' : 'held',
      removed: [...result.removed, ...(result.state?.foreign.filter((c) => result.foreignPermits.includes(c.permit)).map((c) => c.holder) ?? [])],
      // kube-lock's unlock vocabulary (docs/json.md): a release and a forced removal are both `unlocked`.
      outcome: result.outcome === 'already-free' ? 'already-free' : 'unlocked',
      forced: result.outcome === 'broken',
      expired: false,
      max: result.state?.permits ?? null,
      holders: held.map((c) => c.holder),
      resourceVersion: null,
    };
    const slots = result.state ? `${held.length}/${result.state.permits} permits in use` : 'it does not exist';
    await this.output.result(doc, () =>
      result.outcome === 'already-free'
        ? `${holder} holds no permit of semaphore ${name} (${slots}); nothing to release`
        : `released ${doc.removed.join(', ')}${doc.forced ? ' (forced)' : ''} from semaphore ${name} (${slots})`,
    );
  }

  /** An Event on the Semaphore saying who broke whose permits (as `semaphore unlock --force` on ConfigMaps); a failure is a warning. */

  /** After a release: the foreign Permits it gave back are deleted (each guarded), koncli's mirrors of the removed holders too. */
  private async cleanUp(store: KonductorSemaphoreStore, name: string, result: PermitReleased): Promise<void> {
    for (const permit of result.foreignPermits) await store.deletePermit(permit);
    const w = await store.unmirror(name, result.removed);
    if (w) this.output.warn(w);
  }

  /**
   * `semaphore run --kind konductor`: the permit is taken, renewed and given back through the claim
   * engine's run path (cli/claim-runner.ts, src/supervise), as `mutex run`. No mirror Permit is kept
   * for a run (konductor's tools see the holder in status.holders).
   */
  protected async konductorRun(
    req: Omit<KonductorAcquire, 'wait' | 'ttlSeconds'> & { ttlSeconds: number },
    supervision: ClaimRunFlags & { conflictExitCode: number },
  ): Promise<void> {
    const [p, { runReport }] = await Promise.all([import('../core/primitives/permits.js'), import('./claim-runner.js')]);
    const { name, holder, ttlSeconds } = req;
    await this.runClaimed<PermitsState, PermitAcquired>(
      { kind: p.permitsKind, name, holder, ttlSeconds },
      (ctx) => ({
        acquire: p.planPermitAcquire({ ...req, namespace: ctx.store.namespace }, ctx.clock),
        claimOf: (r) => ({ object: r.object, sentAt: r.sentAt, fencingToken: r.object.version }),
        lostIn: (state) => p.permitLost(name, holder, state),
        renew: p.planPermitRenew(name, holder, ttlSeconds),
        release: () => p.planPermitRelease({ name, namespace: ctx.store.namespace, holder, force: false }),
        env: { KONCLI_SEMAPHORE: name },
      }),
      supervision,
      runReport,
    );
  }

  /** `semaphore status NAME --kind konductor`, or without NAME its listing (this namespace). */
  protected async konductorStatus(name: string | undefined, flags: PrimitiveListFlagValues): Promise<void> {
    const { permitsKind, describePermits } = await import('../core/primitives/permits.js');
    if (name === undefined) {
      const { listRecords } = await import('../core/claim/list.js');
      await this.list('semaphore', flags, (ctx) => listRecords(ctx, permitsKind, (read) => describePermits(read, ctx.clock)), [
        ['PERMITS', (r) => `${r.inUse}/${r.permits}`],
        [
          'HOLDERS',
          (r) =>
            r.holders
              .filter((h) => h.state === 'held')
              .map((h) => h.holder)
              .join(',') || '<none>',
        ],
      ]);
      return;
    }
    const { ctx } = await this.konductorContext();
    const doc = describePermits(await this.readOne(ctx, permitsKind, name), ctx.clock);
    await this.output.result(doc, () => {
      const head = `Name:   ${doc.namespace}/${doc.name} (semaphores.konductor.io)\nPermits: ${doc.permits}\nIn use: ${doc.inUse} (${doc.free} free)`;
      const rows = doc.holders.map((h) => `  ${h.holder}  ${h.state}  expires ${h.expiresAt ?? 'never'}${h.permit ? `  (Permit ${h.permit})` : ''}`);
      return rows.length ? `${head}\nHolders:\n${rows.join('\n')}` : `${head}\nHolders: <none>`;
    });
  }

  /** `semaphore delete --kind konductor`: refused while a permit is live unless --force; koncli's mirror Permits of its holders go too. */
  protected async konductorDelete(name: string, force: boolean): Promise<void> {
    const { ctx, store } = await this.konductorContext();
    const { permitsKind, permitsInUse } = await import('../core/primitives/permits.js');
    const before = force ? await this.oneShot(ctx.clock, () => ctx.store.get(name)) : null;
    await this.deleteOne(ctx, permitsKind, name, force, permitsInUse(name));
    const holders = before?.record ? (JSON.parse(before.record) as { holders: Claim[] }).holders.map((c) => c.holder) : [];
    const w = await store.unmirror(name, holders);
    if (w) this.output.warn(w);
  }
}
