import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';

export default class GateStatus extends PrimitiveCommand {
  /** konductor's `koncli status gate NAME`. */
  static override aliases = ['status:gate'];
  static override summary = 'Show a gate and each of its conditions';
  static override description = `phase is Open or Waiting (konductor's); each condition with met and konductor's message, judged now on this machine (docs/clock.md for leases and semaphore slots). Exit 6 when the gate does not exist, 9 when its record is corrupt or the ConfigMap is not a koncli gate.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> gate status deployment-gate', '<%= config.bin %> gate status deployment-gate -o json'];
  static override args = { name: primitiveNameArg('gate') };

  async run(): Promise<void> {
    const { args } = await this.parse(GateStatus);
    const name = this.nameOf(args.name, 'gate');
    const client = await this.kube();
    const { evaluateGateOnce, describeGate } = await import('../../core/primitives/gate-judge.js');
    const stores = await this.gateStores();
    const ev = await this.oneShot(client.clock, () => evaluateGateOnce(stores, client.namespace, name));
    if (!ev.exists) throw new (await import('../../core/errors.js')).KoncliError('not-found', `gate ${name} does not exist in namespace ${client.namespace}`);
    const doc = describeGate(client.namespace, name, ev);
    await this.output.result(doc, () =>
      [
        `Name:        ${doc.namespace}/${doc.name}`,
        `Phase:       ${doc.phase}`,
        ...(doc.openedBy ? [`Opened by:   ${doc.openedBy} at ${doc.openedAt}`] : []),
        `Conditions:  ${doc.conditionsMet}/${doc.conditionsTotal} met`,
        ...doc.conditions.map((c) => `  ${c.met ? '✓' : '✗'} ${c.type} ${c.namespace}/${c.name}: ${c.message}`),
      ].join('\n'),
    );
  }
}
