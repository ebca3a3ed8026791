import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { PrimitiveCommand, primitiveListFlags } from '../../cli/primitive-command.js';

export default class OnceList extends PrimitiveCommand {
  static override summary = 'List the onces of a namespace';
  static override description = `One row per once (ConfigMaps labelled koncli.dev/primitive=once; --kind konductor: onces.konductor.io objects), in the namespace or with -A in all, -l selecting by label: state, who ran it, when it finished. A corrupt record is listed with state corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> once list', '<%= config.bin %> once list -A -l team=db', '<%= config.bin %> once list -n production'];
  static override flags = {
    ...primitiveListFlags('onces'),
    timeout: Flags.string({ description: "accepted for konductor's CLI; koncli bounds each request by --request-timeout", hidden: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(OnceList);
    const { listOnces } = await import('../../core/primitives/once.js');
    await this.list('once', flags, listOnces, [
      ['HOLDER', (r) => r.holder ?? '<none>'],
      ['FINISHED', (r) => r.finishedAt ?? '-'],
      ['ATTEMPTS', (r) => String(r.attempts)],
    ]);
  }
}
