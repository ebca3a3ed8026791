import { Args, Flags } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration } from '../../cli/duration.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { renderTable } from '../../cli/table.js';
import { validateObjectName } from '../../cli/validate.js';
import { KoncliError, usageError } from '../../core/errors.js';
import type { SemaphoreStatus } from '../../core/semaphore/describe.js';

type Listed = SemaphoreStatus | { name: string; namespace: string; error: { kind: string; message: string } };

export default class SemaphoreStatusCommand extends KoncliCommand {
  /** konductor's `koncli status semaphore NAME`. */
  static override aliases = ['status:semaphore'];
  static override summary = 'Show the holders of a semaphore (or list all semaphores)';
  static override description = `For one semaphore: max, slots in use, and each holder with its reason, age (from kube-lock's date) and expiry (on this machine's clock). Without NAME: a table of every ConfigMap in the namespace (-A: in all namespaces) with a kube-lock annotation; corrupt ones are listed as such. Exits 9 (corrupt) when the one semaphore asked for has a corrupt annotation.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> semaphore status db-restarts',
    '<%= config.bin %> semaphore status',
    '<%= config.bin %> semaphore status -A',
    '<%= config.bin %> semaphore status db-restarts --json',
  ];
  static override args = { name: Args.string({ description: 'semaphore name (omit to list)', required: false }) };
  static override flags = { 'all-namespaces': Flags.boolean({ char: 'A', description: 'list semaphores in all namespaces' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(this.constructor as typeof SemaphoreStatusCommand); // also `semaphore list`'s
    const all = flags['all-namespaces'];
    if (all && args.name !== undefined) throw usageError('-A lists every semaphore; pass either NAME or -A');
    const name = args.name === undefined ? undefined : validateObjectName(args.name, 'semaphore');
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const [{ describeSemaphore }, { readSemaphore }, { decodeSemaphore }] = await Promise.all([
      import('../../core/semaphore/describe.js'),
      import('../../core/semaphore/read.js'),
      import('../../core/semaphore/codec.js'),
    ]);
    if (name) {
      const { object, state } = await this.oneShot(ctx.clock, () => readSemaphore(ctx, name, client.namespace));
      const status = describeSemaphore(object, state, ctx.tracker, ctx.clock.now(), ctx.clock.wallNow());
      await this.output.result(status, () => describeText(status));
      return;
    }
    const items: Listed[] = (await this.oneShot(ctx.clock, () => ctx.store.list(all))).map((object) => {
      try {
        return describeSemaphore(object, decodeSemaphore(object.name, object.annotation!), ctx.tracker, ctx.clock.now(), ctx.clock.wallNow());
      } catch (err) {
        if (!(err instanceof KoncliError)) throw err;
        return { name: object.name, namespace: object.namespace, error: { kind: err.kind, message: err.message } };
      }
    });
    await this.output.result({ items }, () => statusTable(items, all));
  }
}

const expiryText = (h: SemaphoreStatus['holders'][number]) =>
  h.expired ? 'expired' : h.expiresInSeconds === null ? 'until unlocked' : `in ${formatDuration(h.expiresInSeconds * 1000)}`;

function describeText(s: SemaphoreStatus): string {
  const rows: [string, string][] = [
    ['Name', `${s.namespace}/${s.name}`],
    ['Max', String(s.max)],
    ['In use', `${s.inUse} (${s.free} free)`],
  ];
  const head = rows.map(([k, v]) => `${(k + ':').padEnd(8)}${v}`).join('\n');
  if (s.holders.length === 0) return `${head}\nHolders: <none>`;
  const table = renderTable(
    ['HOLDER', 'REASON', 'AGE', 'EXPIRES'],
    s.holders.map((h) => [h.holder, h.reason || '-', h.ageSeconds === null ? '-' : formatDuration(h.ageSeconds * 1000), expiryText(h)]),
  );
  return `${head}\nHolders:\n${table.replace(/^/gm, '  ')}`;
}

function statusTable(items: Listed[], allNamespaces: boolean): string {
  if (items.length === 0) return 'No semaphores found.';
  const rows = items.map((s) =>
    'error' in s
      ? [s.name, '-', '-', `<${s.error.kind}: see semaphore status ${s.name}>`, '-']
      : [
          s.name,
          String(s.max),
          String(s.inUse),
          s.holders
            .filter((h) => !h.expired)
            .map((h) => h.holder)
            .join(',') || '<none>',
          s.created ? formatDuration(Date.now() - Date.parse(s.created)) : '-',
        ],
  );
  if (!allNamespaces) return renderTable(['NAME', 'MAX', 'IN USE', 'HOLDERS', 'AGE'], rows);
  return renderTable(
    ['NAMESPACE', 'NAME', 'MAX', 'IN USE', 'HOLDERS', 'AGE'],
    rows.map((r, i) => [items[i].namespace, ...r]),
  );
}
