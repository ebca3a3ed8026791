import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { primitiveNameArg } from '../../cli/primitive-command.js';
import { WaitGroupCommand } from '../../cli/waitgroup-command.js';

export default class WaitGroupDone extends WaitGroupCommand {
  static override summary = "Lower a wait group's counter by 1";
  static override description = `\`waitgroup add NAME --delta -1\`: refused when the counter is 0 (exit 5: more done than added), nothing changed. Exit 6 when the wait group does not exist.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> waitgroup done workers'];
  static override args = { name: primitiveNameArg('waitgroup') };

  async run(): Promise<void> {
    const { args } = await this.parse(WaitGroupDone);
    await this.change(this.nameOf(args.name, 'waitgroup'), -1);
  }
}
