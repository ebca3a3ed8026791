import { EXIT_CODES_SECTION, KoncliCommand } from '../cli/base-command.js';

export default class Version extends KoncliCommand {
  static override summary = "Print koncli's version (konductor's `koncli version`; the same as --version)";
  static override description = `The line \`koncli --version\` prints (name/version, platform, runtime); with --json, {"name","version","userAgent"}. Needs no cluster.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json'];

  async run(): Promise<void> {
    await this.parse(Version);
    const { name, version, userAgent } = this.config;
    await this.output.result({ name, version, userAgent }, () => userAgent);
  }
}
