import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { parseTtlSeconds } from '../../cli/duration.js';
import { PrimitiveCommand, primitiveNameArg } from '../../cli/primitive-command.js';
import { countFlag } from '../../cli/rendezvous-flags.js';
import { usageError } from '../../core/errors.js';

export default class BarrierCreate extends PrimitiveCommand {
  static override summary = 'Create a barrier: it opens when --expected (or --quorum) holders have arrived';
  static override description = `Creates the barrier NAME (a labelled ConfigMap: docs/formats.md). It opens when --quorum distinct holders have arrived (default: all --expected), and stays open. With --timeout, a barrier still short of its quorum that long after its creation has failed (judged as a claim's TTL: docs/clock.md): \`barrier wait\` exits 3 and new arrivals are refused. An existing barrier with the same settings is left as it is (outcome exists); different ones are refused (exit 2).${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> barrier create stage-1-complete --expected 5',
    '<%= config.bin %> barrier create consensus-barrier --expected 10 --quorum 7 --timeout 15m',
  ];
  static override args = { name: primitiveNameArg('barrier') };
  static override flags = {
    expected: Flags.integer({ description: 'number of processes expected to arrive', default: 1 }),
    quorum: Flags.integer({ description: 'arrivals needed to open (0: all --expected)', default: 0 }),
    timeout: Flags.string({ description: 'the barrier fails if not open this long after its creation [default: never]' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(BarrierCreate);
    const name = this.nameOf(args.name, 'barrier');
    const expected = countFlag(flags.expected, 'expected', 1);
    const quorum = flags.quorum === 0 ? undefined : countFlag(flags.quorum, 'quorum', 1);
    if (quorum !== undefined && quorum > expected)
      throw usageError(`--quorum ${quorum} exceeds --expected ${expected}; the quorum is how many of the expected arrivals open it`);
    const timeoutSeconds = flags.timeout === undefined || flags.timeout === '0' ? undefined : parseTtlSeconds(flags.timeout, 'timeout');
    const ctx = await this.primitive('barrier');
    const { barrierKind, planBarrierCreate } = await import('../../core/primitives/barrier.js');
    const { result } = await this.verb(ctx, barrierKind, name, planBarrierCreate({ name, expected, quorum, timeoutSeconds }), { wait: false }, () => '');
    const doc = {
      kind: 'barrier',
      namespace: ctx.store.namespace,
      name,
      outcome: result.outcome,
      expected,
      quorum: quorum ?? null,
      timeoutSeconds: timeoutSeconds ?? null,
      resourceVersion: result.object.version,
    };
    await this.output.result(doc, () =>
      result.outcome === 'created' ? `created barrier ${name} (expected ${expected}${quorum ? `, quorum ${quorum}` : ''})` : `barrier ${name} already exists`,
    );
  }
}
