// koncli inside the single executable: the Host that src/cli/entry.ts's run() needs, with oclif's
// plugins built from what the build embedded ('koncli:plugins', scripts/package.mjs): each plugin's
// package.json and command manifest, read from disk at build time, and a loader per command. The
// executable has no package files: oclif must neither read plugins from disk nor import command
// files, and a command's module is evaluated only when that command runs.
import type { Command, Interfaces } from '@oclif/core';
import { asksHelp, commandIn, run, type Host } from '../cli/entry.js';
import { plugins as embedded, type EmbeddedPlugin } from 'koncli:plugins';

/** Where oclif believes the package is (it reads nothing there: every plugin comes loaded). */
const ROOT = '/koncli';

/** Runs koncli with `args` (argv after the executable). */
export async function start(args: string[]): Promise<never> {
  const { Plugin } = await import('@oclif/core');
  /** oclif's Plugin, loaded from the embedded package.json and manifest instead of the file system. */
  class BundledPlugin extends Plugin {
    constructor(private readonly embedded: EmbeddedPlugin) {
      super({ root: ROOT, name: embedded.pjson.name, isRoot: embedded.isRoot, type: 'core' });
    }

    override load(): Promise<void> {
      const { pjson, manifest, isRoot } = this.embedded;
      Object.assign(this, { type: 'core', isRoot, root: ROOT, pjson, name: pjson.name, alias: pjson.name, version: pjson.version, valid: true });
      Object.assign(this, { moduleType: 'commonjs', hooks: {}, manifest, hasManifest: true, commandIDs: Object.keys(manifest.commands) });
      // As oclif's Plugin.load maps its manifest.
      this.commands = Object.entries(manifest.commands)
        .map(([id, c]) => ({ ...c, load: () => this.findCommand(id, { must: true }), pluginAlias: this.alias, pluginType: this.type }))
        .sort((a, b) => a.id.localeCompare(b.id));
      return Promise.resolve();
    }

    override async findCommand(id: string, opts: { must?: boolean } = {}): Promise<Command.Class> {
      const loader = this.embedded.commands[id];
      if (!loader) {
        if (!opts.must) return undefined as never;
        const { Errors } = await import('@oclif/core');
        throw new Errors.CLIError(`command ${id} not found`);
      }
      const cmd = await loader();
      cmd.id = id;
      cmd.plugin = this;
      return cmd;
    }
  }
  const loaded = embedded.map((p) => new BundledPlugin(p));
  await Promise.all(loaded.map((p) => p.load()));
  const root = loaded.find((p) => p.isRoot)!;
  const ids = new Set(loaded.flatMap((p) => p.commandIDs));
  const host: Host = {
    pjson: root.pjson,
    loadOptions: () => ({ root: ROOT, plugins: new Map<string, Interfaces.Plugin>(loaded.map((p) => [p.name, p])) }),
    notFound: (argv, loadOptions) =>
      argv.length === 0 || argv[0] === '--version' || asksHelp(argv) || commandIn(argv, ids) ? Promise.resolve(false) : notFound(argv, loadOptions),
  };
  return run(args, host);
}

/**
 * oclif's command_not_found hook for argv that names no command: the executable has no hook files
 * for oclif to import, so it runs @oclif/plugin-not-found's hook itself, loaded only here.
 */
async function notFound(argv: string[], loadOptions: Interfaces.Options): Promise<boolean> {
  const { Config, Errors, flush, handle, ux } = await import('@oclif/core');
  const config = await Config.load(loadOptions);
  // oclif's id for an unknown command: the words before the first flag, or the first argument.
  const firstFlag = argv.findIndex((a) => a.startsWith('-'));
  const words = firstFlag < 0 ? argv : argv.slice(0, Math.max(1, firstFlag));
  const id = words.join(':');
  if (config.findCommand(id) || config.findTopic(id)) return false;
  // What oclif's runHook gives a hook (@oclif/core config.runHook).
  const context = {
    config,
    debug: () => {},
    error: (message: string | Error, options?: { exit?: number }) => Errors.error(message, options as never),
    exit: (code = 0) => Errors.exit(code),
    log: (message?: string, ...args: string[]) => ux.stdout(message, ...args),
    warn: (message: string | Error) => Errors.warn(message),
  };
  const { default: notFoundHook } = await import('@oclif/plugin-not-found');
  try {
    await notFoundHook.call(context, { id, argv: argv.slice(words.length), config, context } as never);
    await flush();
  } catch (err) {
    await handle(err as Error);
  }
  return true;
}
