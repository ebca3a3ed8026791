import { PrimitiveCommand } from './primitive-command.js';

/** `waitgroup add` and `waitgroup done`: one counter change, printed the same way. */
export abstract class WaitGroupCommand extends PrimitiveCommand {
  /** Applies `delta` (also `waitgroup done`'s -1) and prints the new counter. */
  protected async change(name: string, delta: number): Promise<void> {
    const ctx = await this.primitive('waitgroup');
    const { waitGroupKind, planWaitGroupAdd } = await import('../core/primitives/waitgroup.js');
    const { result } = await this.verb(ctx, waitGroupKind, name, planWaitGroupAdd(name, ctx.store.namespace, delta), { wait: false }, () => '');
    const doc = {
      kind: 'waitgroup',
      namespace: ctx.store.namespace,
      name,
      outcome: delta === 0 ? 'unchanged' : delta < 0 ? 'decremented' : 'incremented',
      delta,
      counter: result.counter,
      previous: result.previous,
      state: result.counter === 0 ? 'done' : 'waiting',
      resourceVersion: result.object?.version ?? null,
    };
    await this.output.result(doc, () => `waitgroup ${name}: ${result.previous} → ${result.counter}`);
  }
}
