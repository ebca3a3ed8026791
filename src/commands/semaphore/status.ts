import { Args } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { SemaphoreCommand } from '../../cli/semaphore-command.js';
import { formatDuration } from '../../cli/duration.js';
import { aliveText, listingFlags, scopeOf } from '../../cli/kind-listing.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { renderTable } from '../../cli/table.js';
import { validateObjectName } from '../../cli/validate.js';
import { usageError } from '../../core/errors.js';
import type { SemaphoreStatus } from '../../core/semaphore/describe.js';

export default class SemaphoreStatusCommand extends SemaphoreCommand {
  /** konductor's `koncli status semaphore NAME`. */
  static override aliases = ['status:semaphore'];
  static override summary = 'Show the holders of a semaphore (or list all semaphores)';
  static override description = `For one semaphore: max, slots in use, and each holder with its reason, age (from kube-lock's date) and expiry (on this machine's clock). Without NAME: every ConfigMap in the namespace (-A: in all namespaces) with a kube-lock annotation, with koncli status's columns (holders, state and slots in use, expiry, last lock, whether the holders are alive, and the command that breaks each stuck one); corrupt ones are listed as such. Exits 9 (corrupt) when the one semaphore asked for has a corrupt annotation.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> semaphore status db-restarts',
    '<%= config.bin %> semaphore status',
    '<%= config.bin %> semaphore status -A',
    '<%= config.bin %> semaphore status db-restarts --json',
  ];
  static override args = { name: Args.string({ description: 'semaphore name (omit to list)', required: false }) };
  static override flags = listingFlags('semaphores');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(this.constructor as typeof SemaphoreStatusCommand); // also `semaphore list`'s
    const all = flags['all-namespaces'];
    if (all && args.name !== undefined) throw usageError('-A lists every semaphore; pass either NAME or -A');
    const name = args.name === undefined ? undefined : validateObjectName(args.name, 'semaphore');
    if (this.onKonductor) return this.konductorStatus(name, flags);
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const [{ describeSemaphore }, { readSemaphore }] = await Promise.all([import('../../core/semaphore/describe.js'), import('../../core/semaphore/read.js')]);
    if (name) {
      const { object, state } = await this.oneShot(ctx.clock, () => readSemaphore(ctx, name, client.namespace));
      const status = describeSemaphore(object, state, ctx.tracker, ctx.clock.now(), ctx.clock.wallNow());
      const [{ semaphoreLister }, { judgeOne }, { semaphoreRow }] = await Promise.all([
        import('../../cli/lock-listers.js'),
        import('../../cli/kind-listing.js'),
        import('../../core/status/rows.js'),
      ]);
      const row = await judgeOne(client, semaphoreLister(client), semaphoreRow(status));
      const doc = {
        ...status,
        holders: status.holders.map((h, i) => ({ ...h, alive: row.holders[i].alive, aliveReason: row.holders[i].aliveReason })),
        stuck: row.stuck,
        breakCommand: row.breakCommand,
      };
      await this.output.result(doc, () => describeText(doc));
      return;
    }
    const [{ semaphoreLister }, { printKindListing }] = await Promise.all([import('../../cli/lock-listers.js'), import('../../cli/kind-listing.js')]);
    await printKindListing(this.output, client, semaphoreLister(client), scopeOf(flags), 'semaphores', (read) => this.oneShot(ctx.clock, read));
  }
}

const expiryText = (h: SemaphoreStatus['holders'][number]) =>
  h.expired ? 'expired' : h.expiresInSeconds === null ? 'until unlocked' : `in ${formatDuration(h.expiresInSeconds * 1000)}`;

type Described = Omit<SemaphoreStatus, 'holders'> & {
  holders: (SemaphoreStatus['holders'][number] & { alive: boolean | null; aliveReason: string | null })[];
  breakCommand: string | null;
};

function describeText(s: Described): string {
  const rows: [string, string][] = [
    ['Name', `${s.namespace}/${s.name}`],
    ['Max', String(s.max)],
    ['In use', `${s.inUse} (${s.free} free)`],
  ];
  const head = rows.map(([k, v]) => `${(k + ':').padEnd(8)}${v}`).join('\n');
  if (s.holders.length === 0) return `${head}\nHolders: <none>`;
  const table = renderTable(
    ['HOLDER', 'REASON', 'AGE', 'EXPIRES', 'ALIVE'],
    s.holders.map((h) => [h.holder, h.reason || '-', h.ageSeconds === null ? '-' : formatDuration(h.ageSeconds * 1000), expiryText(h), aliveText(h)]),
  );
  return `${head}\nHolders:\n${table.replace(/^/gm, '  ')}${s.breakCommand ? `\nBreak with: ${s.breakCommand}` : ''}`;
}
