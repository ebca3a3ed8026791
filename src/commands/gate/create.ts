import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class GateCreate extends PrimitiveCommand {
  static override summary = 'Create a gate: open when opened by hand, or when all its conditions are met';
  static override description = `Creates the gate NAME (a labelled ConfigMap: docs/formats.md), closed, with konductor's conditions given as --condition TYPE/[NAMESPACE/]NAME[=STATE]: job/NAME (Complete, or =Failed), lease/NAME (=Available: free or lapsed, the default; =Acquired: held), barrier/NAME (Open), semaphore/NAME=N (at least N free permits, default 1), gate/NAME (Open). The gate is open while every condition is met (judged by each reader on the live objects, watched by \`gate wait\`), or once opened by hand (\`gate open\`, until \`gate close\`); a gate without conditions opens only by hand. An existing gate with the same conditions is left as it is; other conditions are refused (exit 2).${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> gate create processing-gate --condition job/data-validation --condition job/data-cleanup',
    '<%= config.bin %> gate create transform-gate --condition barrier/extract-complete --condition lease/db-maintenance=Available',
  ];
  static override args = { name: primitiveNameArg('gate') };
  static override flags = {
    condition: Flags.string({ description: 'a condition, TYPE/[NAMESPACE/]NAME[=STATE] (repeatable)', multiple: true, default: [] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GateCreate);
    const name = this.nameOf(args.name, 'gate');
    const { gateKind, parseCondition, planGateCreate } = await import('../../core/primitives/gate.js');
    const conditions = flags.condition.map(parseCondition);
    const ctx = await this.primitive('gate');
    const { result } = await this.verb(ctx, gateKind, name, planGateCreate(name, conditions), { wait: false }, () => '');
    const doc = { kind: 'gate', namespace: ctx.store.namespace, name, outcome: result.outcome, conditions, resourceVersion: result.object.version };
    await this.output.result(doc, () =>
      result.outcome === 'created' ? `created gate ${name} (${conditions.length} conditions)` : `gate ${name} already exists`,
    );
  }
}
