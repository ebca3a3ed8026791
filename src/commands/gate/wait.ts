import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { formatDuration } from '../../cli/duration.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { rendezvousTimeoutFlag, rendezvousWait } from '../../cli/rendezvous-flags.js';

export default class GateWait extends PrimitiveCommand {
  static override summary = 'Wait for a gate to open';
  static override description = `Watches the gate NAME and every object its conditions name (Jobs, Leases, Barriers, Semaphores, Gates) until it is open — opened by hand, or every condition met — and exits 0. Exit 3 when --timeout passes first, naming the conditions not met. A gate not created yet is waited for.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> gate wait processing-gate --timeout 30m'];
  static override args = { name: primitiveNameArg('gate') };
  static override flags = rendezvousTimeoutFlag('the gate to open');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(GateWait);
    const name = this.nameOf(args.name, 'gate');
    const { wait, timeoutMs } = rendezvousWait(flags.timeout);
    const client = await this.kube();
    const { waitForGate, describeGate } = await import('../../core/primitives/gate-judge.js');
    const stores = await this.gateStores();
    const ev = await this.waiting({ wait, title: `waiting for gate ${name}`, done: () => `gate ${name} is open` }, ({ progress, ...opts }) =>
      waitForGate(stores, client.namespace, name, {
        ...opts,
        timeoutMs: wait ? timeoutMs : 0,
        onBlocked: (text, waitedMs) => progress?.update(`${text} (waited ${formatDuration(waitedMs)})`),
      }),
    );
    await this.output.result({ ...describeGate(client.namespace, name, ev), waitedMs: Math.round(ev.waitedMs) }, () => `gate ${name} is open`);
  }
}
