import { Command } from '@oclif/core';
import { completionRequest, type CommandShape } from '../cli/complete-words.js';

/** Cobra's ShellCompDirectiveNoFileComp: what kubectl expects after a plugin's completions. */
const NO_FILE_COMPLETION = ':4';

export default class Complete extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Completion candidates for the words typed (used by the completion scripts and kubectl_complete-koncli)';
  static override description =
    'Prints one candidate a line, then ":4" (Cobra\'s no-file directive), as kubectl asks a plugin: commands, flags, flag values, and names from the cluster (namespaces, contexts, leases, semaphores, objects, kubelock locks). Prints no candidates when the cluster cannot be asked.';

  async run(): Promise<void> {
    const typed = this.argv.length ? this.argv : [''];
    const shapes: CommandShape[] = this.config.commands.filter((c) => !c.hidden && !c.id.includes('autocomplete')).map(shapeOf);
    const req = completionRequest(typed, shapes);
    const words = req.words ?? (await this.names(req).catch(() => []));
    const out = words.filter((w) => w.startsWith(req.current));
    process.stdout.write([...out, NO_FILE_COMPLETION].join('\n') + '\n');
  }

  private async names(req: ReturnType<typeof completionRequest>): Promise<string[]> {
    if (req.names === 'contexts') {
      const { resolveAccess } = await import('../kube/kubeconfig.js');
      return resolveAccess({ kubeconfig: req.kubeconfig })
        .kc.getContexts()
        .map((c) => c.name);
    }
    const [{ KubeClient }, { completionNames }] = await Promise.all([import('../kube/client.js'), import('../kube/names.js')]);
    const client = KubeClient.connect({ kubeconfig: req.kubeconfig, context: req.context, namespace: req.namespace, requestTimeoutMs: 3000 });
    switch (req.names) {
      case 'namespaces':
        return completionNames.namespaces(client);
      case 'leases':
        return completionNames.leases(client, req.leaseKind);
      case 'semaphores':
        return completionNames.semaphores(client);
      case 'objects':
        return completionNames.objects(client, req.target ?? '');
      case 'locks':
        return completionNames.locks(client, req.target);
      default:
        return [];
    }
  }
}

type FlagShape = CommandShape['flags'][string];

/** A command's flags by every spelling (--namespace, -n), as completion needs them. */
function shapeOf(c: Command.Loadable): CommandShape {
  const flags: Record<string, FlagShape> = {};
  for (const f of Object.values(c.flags)) {
    const shape: FlagShape = { value: f.type === 'option', options: f.type === 'option' ? f.options : undefined };
    flags[`--${f.name}`] = shape;
    if (f.char) flags[`-${f.char}`] = shape;
  }
  return { id: c.id, flags };
}
