import { Args, Command } from '@oclif/core';
import { bashCompletion, zshCompletion, type CompletionCommand } from '../cli/completion.js';
import { writeStdout } from '../cli/stdout.js';

export default class CompletionCommandClass extends Command {
  static override summary = 'Print a shell completion script (bash or zsh)';
  static override description =
    'Completes topics, commands, flags and the values of flags with a fixed set (--kind, -o, …), for koncli and kubectl-koncli. Load it in the current shell with `source <(koncli completion bash)`, or for every shell: `koncli completion bash > /etc/bash_completion.d/koncli`; for zsh, `source <(koncli completion zsh)` in ~/.zshrc.';
  static override examples = ['source <(<%= config.bin %> completion bash)', '<%= config.bin %> completion zsh > "${fpath[1]}/_koncli"'];
  static override args = { shell: Args.string({ description: 'shell', options: ['bash', 'zsh'], required: true }) };

  async run(): Promise<void> {
    const { args } = await this.parse(CompletionCommandClass);
    const commands: CompletionCommand[] = this.config.commands.filter((c) => !c.hidden).map((c) => ({ id: c.id, flags: c.flags }));
    if (!commands.some((c) => c.id === 'help')) commands.push({ id: 'help', flags: {} });
    writeStdout(args.shell === 'zsh' ? zshCompletion(commands, this.config.bin) : bashCompletion(commands, this.config.bin));
  }
}
