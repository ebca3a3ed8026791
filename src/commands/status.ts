import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../cli/base-command.js';
import { commandPrefix } from '../cli/invocation.js';
import { usageError } from '../core/errors.js';
import type { LockRow } from '../core/status/model.js';

/** -o values beyond the base command's json and yaml. */
const FORMATS = /^(text|wide|name|json|yaml|jsonpath=.+)$/;

export default class Status extends KoncliCommand {
  /** konductor's `koncli status all`. */
  static override aliases = ['status:all'];
  static override summary = 'Every lock of every kind in one table: who holds it, until when, whether the holder is alive';
  static override description = `Lists native Leases (client-go, klock, leaselocker, koncli), konductor Leases (when the CRD is installed), kube-lock semaphores (ConfigMaps with the kube-lock annotation), giantswarm kubelock annotations on any object type you may list (metadata-only lists; types you may not list are skipped, named at -v), and koncli's own primitives (mutex, once, …: ConfigMaps labelled koncli.dev/primitive, and konductor.io/v1 objects stored with --kind konductor, KIND konductor-mutex, … when the CRDs are installed; types you may not list are skipped, named at -v).

ALIVE judges each holder from the Pod its identity names (the whole identity, client-go's <pod>_<uuid>, koncli's <host>-<suffix>): running or terminating is yes, Succeeded/Failed or gone is no; else from a Node of that name (a hostNetwork holder): Ready is yes; unknown when it names neither or RBAC forbids the look-up. --stuck keeps what is held by a holder judged dead or is past its expiry, and prints the command that breaks each one safely (--force --if-holder: only while that holder still holds it). Node heartbeats (kube-node-lease) and the control plane's own leases (kube-system) show only with --system.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> status -A --stuck',
    '<%= config.bin %> status -n jobs -o wide',
    '<%= config.bin %> status -A -o json',
    "<%= config.bin %> status -A -o jsonpath='{.items[*].breakCommand}'",
    '<%= config.bin %> status -A -w',
  ];
  static override flags = {
    'all-namespaces': Flags.boolean({ char: 'A', description: 'list locks in all namespaces' }),
    stuck: Flags.boolean({ description: 'only locks held by a holder judged dead, or past their expiry' }),
    system: Flags.boolean({ description: 'include node heartbeats (kube-node-lease) and the control plane’s leases (kube-system)' }),
    selector: Flags.string({ char: 'l', description: 'label selector (kubectl’s -l), e.g. app=web,tier!=db' }),
    watch: Flags.boolean({ char: 'w', description: 'after the list, print locks as they change (by watch), like kubectl get -w' }),
    output: Flags.string({ char: 'o', description: 'output format: text, wide, name, json, yaml, jsonpath=TEMPLATE', helpGroup: 'OUTPUT' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status);
    const format = flags.json ? 'json' : (flags.output ?? 'text');
    if (!FORMATS.test(format)) throw usageError(`-o ${format} is not an output format; use text, wide, name, json, yaml or jsonpath=TEMPLATE`);
    const client = await this.kube();
    const [{ lockListers }, { listLocks }, { livenessJudge }] = await Promise.all([
      import('../cli/lock-listers.js'),
      import('../core/status/list.js'),
      import('../kube/liveness.js'),
    ]);
    const { unlockCommandOf } = await import('../cli/break-commands.js');
    const listers = lockListers(client, unlockCommandOf(this.config));
    const opts = {
      scope: { namespace: flags['all-namespaces'] ? undefined : client.namespace, labelSelector: flags.selector },
      system: flags.system,
      stuck: flags.stuck,
      bin: commandPrefix(),
    };
    const list = () => listLocks(listers, livenessJudge(client), opts);
    const { rows, skipped } = await this.oneShot(client.clock, list);
    if (flags.verbose) for (const s of skipped) this.output.info(`skipped ${s}`);
    await this.print(rows, format, client.clock.wallNow(), false, flags['all-namespaces'] ? '' : ` in namespace ${client.namespace}`);
    if (flags.watch) {
      const { watchLocks } = await import('../cli/status-watch.js');
      const relist = async () => (await list()).rows;
      await watchLocks(client, listers, opts, relist, rows, (changed) => this.print(changed, format, client.clock.wallNow(), true));
    }
  }

  private async print(rows: LockRow[], format: string, wallNow: number, update = false, where = ''): Promise<void> {
    const text = await import('../cli/status-text.js');
    const doc = { kind: 'LockList', items: rows };
    if (format === 'json' || format === 'yaml') {
      // Under -w each change is its own document, as kubectl get -w -o json prints one object per event.
      for (const d of update ? rows : [doc]) await this.output.result(d, () => '');
      return;
    }
    let out: string;
    if (format === 'name') out = text.statusNames(rows);
    else if (format.startsWith('jsonpath=')) out = (await import('../cli/jsonpath.js')).renderJsonPath(format.slice('jsonpath='.length), doc);
    else if (rows.length === 0 && !update)
      out = `No locks found${where}.`; // the namespace, as kubectl's "No resources found in X namespace": a mistyped -n shows
    else {
      const table = text.statusTable(rows, format === 'wide', wallNow);
      out = update ? table.split('\n').slice(1).join('\n') : table + text.breakHints(rows);
    }
    await this.output.result(doc, () => out);
  }
}
