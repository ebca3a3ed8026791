// koncli inside the single executable: the Host that src/cli/entry.ts's run() needs, with oclif's
// plugins built from what the build embedded ('koncli:plugins', scripts/package.mjs): each plugin's
// package.json and command manifest, read from disk at build time, and a loader per command. The
// executable has no package files: oclif must neither read plugins from disk nor import command
// files, and a command's module is evaluated only when that command runs.
import type { Command, Interfaces } from '@oclif/core';
import { asksHelp, commandIn, run, type Host } from '../cli/entry.js';
import { plugins as embedded, type EmbeddedPlugin } from 'koncli:plugins';
import { WATCHDOG_ARGUMENT } from '../supervise/watchdog-protocol.js';
import { commandPrefix } from '../cli/invocation.js';
import { arglessIdsOf, commandIdsOf } from '../cli/unknown-command.js';

/** Where oclif believes the package is (it reads nothing there: every plugin comes loaded). */
const ROOT = '/koncli';

/**
 * An oclif plugin (oclif's Plugin interface) from what the build embedded: load() reads nothing,
 * findCommand evaluates the command's module. Not a subclass of oclif's Plugin, so that a start
 * that never reaches oclif (`--version`) does not load it.
 */
class BundledPlugin implements Interfaces.Plugin {
  readonly _base = 'koncli';
  readonly options: Interfaces.PluginOptions;
  readonly root = ROOT;
  readonly type = 'core';
  readonly valid = true;
  readonly moduleType = 'commonjs';
  readonly hasManifest = true;
  readonly commandsDir = undefined;
  hooks = {};
  isRoot: boolean;
  name: string;
  alias: string;
  version: string;
  pjson: Interfaces.PJSON;
  commandIDs: string[];
  commands: Command.Loadable[];

  constructor(private readonly embedded: EmbeddedPlugin) {
    const { pjson, manifest, isRoot } = embedded;
    this.options = { root: ROOT, name: pjson.name, isRoot, type: 'core' };
    this.isRoot = isRoot;
    this.pjson = pjson;
    this.name = this.alias = pjson.name;
    this.version = pjson.version;
    this.commandIDs = Object.keys(manifest.commands);
    // As oclif's Plugin.load maps its manifest.
    this.commands = Object.entries(manifest.commands)
      .map(([id, c]) => ({ ...c, load: () => this.findCommand(id, { must: true }), pluginAlias: this.alias, pluginType: this.type }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  /** pjson.oclif.topics as oclif's Plugin lists them: nested topics flattened to "a:b" names. */
  get topics(): Interfaces.Topic[] {
    type Topics = Record<string, { description?: string; hidden?: boolean; subtopics?: Topics }> | undefined;
    const flatten = (topics: Topics, base: string): Interfaces.Topic[] =>
      Object.entries(topics ?? {}).flatMap(([name, t]) => [{ ...t, name: `${base}${name}` }, ...flatten(t.subtopics, `${base}${name}:`)]);
    return flatten(this.pjson.oclif.topics, '');
  }

  load(): Promise<void> {
    return Promise.resolve();
  }

  findCommand(id: string, opts: { must: true }): Promise<Command.Class>;
  findCommand(id: string, opts?: { must: boolean }): Promise<Command.Class>;
  async findCommand(id: string, opts: { must?: boolean } = {}): Promise<Command.Class> {
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

/** Runs koncli with `args` (argv after the executable). */
export function start(args: string[]): Promise<never> {
  const plugins = embedded.map((p) => new BundledPlugin(p));
  const root = plugins.find((p) => p.isRoot)!;
  // With aliases (konductor's `status all`): cli/unknown-command.ts tells a command that is also a topic by them.
  const commands = Object.fromEntries(plugins.flatMap((p) => p.commands.map((c) => [c.id, c] as const)));
  const ids = commandIdsOf(commands);
  const argless = arglessIdsOf(commands);
  // Installed as the kubectl plugin (kubectl-koncli), help and examples say `kubectl koncli`.
  root.pjson.oclif.bin = commandPrefix();
  const host: Host = {
    pjson: root.pjson,
    loadOptions: () => ({ root: ROOT, plugins: new Map<string, Interfaces.Plugin>(plugins.map((p) => [p.name, p])) }),
    notFound: (argv, loadOptions) =>
      argv.length === 0 || argv[0] === '--version' || asksHelp(argv) || commandIn(argv, ids) ? Promise.resolve(false) : notFound(argv, loadOptions),
    commandIds: () => ids,
    arglessIds: () => argless,
    // This executable again, with the first argument main.ts dispatches to the watchdog.
    watchdog: [process.execPath, WATCHDOG_ARGUMENT],
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
