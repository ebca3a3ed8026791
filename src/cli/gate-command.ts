import { PrimitiveCommand } from './primitive-command.js';

/** `gate open` and `gate close`: one guarded write of the gate's `opened`, then the gate judged as it now is. */
export abstract class GateCommand extends PrimitiveCommand {
  protected async setGate(name: string, open: boolean, by: string): Promise<void> {
    const ctx = await this.primitive('gate');
    const [{ gateKind, planGateSet }, { evaluateGateOnce }] = await Promise.all([
      import('../core/primitives/gate.js'),
      import('../core/primitives/gate-judge.js'),
    ]);
    const { result } = await this.verb(ctx, gateKind, name, planGateSet(name, ctx.store.namespace, open, by, ctx.clock), { wait: false }, () => '');
    const ev = await this.oneShot(ctx.clock, async () => evaluateGateOnce(await this.gateStores(), ctx.store.namespace, name));
    const doc = {
      kind: 'gate',
      namespace: ctx.store.namespace,
      name,
      outcome: result.outcome,
      state: ev.open ? 'open' : 'closed',
      openedBy: ev.opened?.by ?? null,
    };
    const still = !open && ev.open ? ` (still open: all ${ev.conditions.length} conditions are met)` : '';
    const text = {
      opened: `opened gate ${name}`,
      closed: `closed gate ${name}`,
      'already-open': `gate ${name} was already open`,
      'already-closed': `gate ${name} was already closed`,
    };
    await this.output.result(doc, () => `${text[result.outcome]}${still}`);
  }
}
