// The single executable's main script (scripts/package.mjs): run while Node builds the V8 start-up
// snapshot, so oclif, client-node and koncli's modules are loaded, and oclif's plugins read, before
// the heap is saved. Each start deserialises that heap and calls run() (src/cli/entry.ts) like
// bin/run.js does. Nothing here may open a socket or load Node's http/https/tls/http2: the build
// makes those load on first use (scripts/build/load-on-use.mjs), i.e. after deserialisation.
import { Config, Errors, Plugin, flush, handle, ux, type Command, type Hook, type Interfaces } from '@oclif/core';
import { commands as helpCommands } from '@oclif/plugin-help';
import { startupSnapshot } from 'node:v8';
import { asksHelp, commandIn, run, type Host } from '../cli/entry.js';
import { commandPrefix } from '../cli/invocation.js';
import pjson from '../../package.json' with { type: 'json' };
// A module the build generates: { 'lease:status': LeaseStatusCommand, … } for src/commands/**.
import { commands } from 'koncli:commands';

/** A plugin whose commands are in this bundle: oclif's Plugin, finding commands without loading files. */
class BundledPlugin extends Plugin {
  constructor(
    options: Interfaces.PluginOptions,
    private readonly classes: Record<string, Command.Class>,
  ) {
    super(options);
  }

  override findCommand(id: string, opts: { must?: boolean } = {}): Promise<Command.Class> {
    const cmd = this.classes[id];
    if (!cmd) return opts.must ? Promise.reject(new Errors.CLIError(`command ${id} not found`)) : Promise.resolve(undefined as never);
    cmd.id = id;
    cmd.plugin = this;
    return Promise.resolve(cmd);
  }

  override async load(): Promise<void> {
    await super.load();
    this.hooks = {}; // hooks are files oclif imports; the executable runs the one it needs itself (notFound)
  }
}

/** The package root when the snapshot was built: oclif reads package.json and manifests there, once. */
const buildRoot = process.cwd();
const root = new BundledPlugin({ root: buildRoot, isRoot: true, pjson: pjson as unknown as Interfaces.PJSON }, commands);
const help = new BundledPlugin({ root: buildRoot, name: '@oclif/plugin-help', type: 'core' }, helpCommands);
const loaded = Promise.all([root.load(), help.load()]);
let ids: Set<string>;
void loaded.then(() => (ids = new Set([...root.commandIDs, ...help.commandIDs])));

const host: Host = {
  pjson: pjson as unknown as Interfaces.PJSON,
  loadOptions: () => ({
    root: buildRoot,
    plugins: new Map<string, Interfaces.Plugin>([
      [root.name, root],
      [help.name, help],
    ]),
  }),
  commandIds: () => ids,
  async notFound(argv, loadOptions) {
    if (argv.length === 0 || argv[0] === '--version' || asksHelp(argv) || commandIn(argv, ids)) return false;
    const config = await Config.load(loadOptions);
    // oclif's id for an unknown command: the words before the first flag, or the first argument.
    const firstFlag = argv.findIndex((a) => a.startsWith('-'));
    const words = firstFlag < 0 ? argv : argv.slice(0, Math.max(1, firstFlag));
    const id = words.join(':');
    if (config.findCommand(id) || config.findTopic(id)) return false;
    // What oclif's runHook gives a hook (@oclif/core config.runHook), for @oclif/plugin-not-found.
    const context = {
      config,
      debug: () => {},
      error: (message: string | Error, options?: { exit?: number }) => Errors.error(message, options as never),
      exit: (code = 0) => Errors.exit(code),
      log: (message?: string, ...args: string[]) => ux.stdout(message, ...args),
      warn: (message: string | Error) => Errors.warn(message),
    } as unknown as Hook.Context;
    // Loaded here, after deserialisation: its prompt library holds native handles once loaded.
    const { default: notFoundHook } = await import('@oclif/plugin-not-found');
    try {
      await notFoundHook.call(context, { id, argv: argv.slice(words.length), config, context } as never);
      await flush();
    } catch (err) {
      await handle(err as Error);
    }
    return true;
  },
};

startupSnapshot.setDeserializeMainFunction(async () => {
  await loaded;
  // Installed as the kubectl plugin (kubectl-koncli), help and examples say `kubectl koncli`.
  root.pjson.oclif.bin = commandPrefix();
  await run(process.argv.slice(2), host);
});
// Libraries that koncli's modules import on use: evaluated now, into the snapshot ('koncli:commands'
// brings every module of src/).
void import('yaml');
void import('listr2');
// Built-in modules undici requires (it is loaded on use, after deserialisation): those that hold no
// native handles are loaded now, so a start does not compile them.
for (const m of [
  'assert',
  'async_hooks',
  'buffer',
  'crypto',
  'diagnostics_channel',
  'dns',
  'events',
  'net',
  'perf_hooks',
  'querystring',
  'stream',
  'stream/web',
  'timers',
  'url',
  'util',
  'util/types',
  'worker_threads',
  'zlib',
]) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the snapshot script loads built-ins synchronously, before the heap is saved
  require(`node:${m}`);
}
