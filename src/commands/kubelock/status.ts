import { Args } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration } from '../../cli/duration.js';
import { aliveText, listingFlags, scopeOf, type ListingFlagValues } from '../../cli/kind-listing.js';
import { openKubelocks, parseTarget } from '../../cli/kubelock-session.js';
import { renderTable } from '../../cli/table.js';
import type { LockStatus } from '../../core/kubelock/describe.js';
import { KoncliError, usageError } from '../../core/errors.js';
import type { KubeClient } from '../../kube/client.js';

export default class KubelockStatus extends KoncliCommand {
  static override summary = "List the kubelock locks on an object (or on every object): owner, state, and expiry on this machine's clock";
  static override description = `Every kubelock.giantswarm.io/<lock> annotation on the object, whoever wrote it: owner, createdAt (the owner's own clock, shown only), TTL, and whether it is held or expired judged on this machine's clock (docs/kubelock.md). A record koncli cannot read shows as corrupt. Without TYPE/NAME: the kubelock annotations on objects of every type you may list in the namespace (-A: in all namespaces, and on cluster-scoped objects), found as koncli status finds them (metadata-only lists; types you may not list are named at -v), with koncli status's columns.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> kubelock status configmap/cluster-config',
    '<%= config.bin %> kubelock status namespace/team-a --json',
    '<%= config.bin %> kubelock status -A',
  ];
  static override args = {
    'TYPE/NAME': Args.string({ description: 'the object, e.g. configmap/foo, deployments.apps/web, namespace/team-a (omit to list)', required: false }),
  };
  static override flags = listingFlags('kubelock locks');

  async run(): Promise<void> {
    const { args, flags } = await this.parse(KubelockStatus);
    if (args['TYPE/NAME'] === undefined) return this.listAll(flags);
    if (flags['all-namespaces']) throw usageError('-A lists the locks on every object; pass either TYPE/NAME or -A');
    const target = parseTarget(args['TYPE/NAME']);
    const client = await this.kube();
    const ctx = await openKubelocks(client, target.type);
    const what = ctx.store.describe(target.name);
    const obj = await this.oneShot(ctx.clock, () => ctx.store.get(target.name));
    if (!obj) throw new KoncliError('not-found', `${what} not found`);
    const { describeLocks } = await import('../../core/kubelock/describe.js');
    const locks = describeLocks(obj, what, ctx.tracker, ctx.clock.now(), ctx.clock.wallNow());
    if (!this.output.machine) for (const l of locks) if (l.error) this.output.warn(l.error);
    const judged = await judgeLocks(client, locks, `${ctx.store.displayName}/${target.name}`, ctx.store.namespace ?? null);
    await this.output.result(
      {
        kind: 'kubelock',
        namespace: ctx.store.namespace ?? null,
        name: `${ctx.store.displayName}/${target.name}`,
        object: `${ctx.store.displayName}/${target.name}`,
        apiVersion: ctx.store.resource.apiVersion,
        // The object's Kubernetes kind (`kind` is koncli's, as in every --json document: docs/json.md).
        objectKind: ctx.store.resource.kind,
        resourceVersion: obj.version,
        locks: judged,
      },
      () => (locks.length === 0 ? `No kubelock locks on ${what}.` : lockTable(judged)),
    );
  }

  private async listAll(flags: ListingFlagValues): Promise<void> {
    const client = await this.kube();
    const [{ kubelockLister }, { printKindListing }] = await Promise.all([import('../../cli/lock-listers.js'), import('../../cli/kind-listing.js')]);
    await printKindListing(this.output, client, kubelockLister(client), scopeOf(flags), 'kubelock locks', (read) => this.oneShot(client.clock, read));
  }
}

type Judged = LockStatus & { alive: boolean | null; aliveReason: string | null; stuck: boolean; breakCommand: string | null };

/** Each lock with its owner's liveness and the command that breaks it safely, judged as `koncli status` judges it. */
async function judgeLocks(client: KubeClient, locks: LockStatus[], object: string, namespace: string | null): Promise<Judged[]> {
  const [{ kubelockLister }, { judgeOne }, { kubelockRow }] = await Promise.all([
    import('../../cli/lock-listers.js'),
    import('../../cli/kind-listing.js'),
    import('../../core/status/rows.js'),
  ]);
  const lister = kubelockLister(client);
  return Promise.all(
    locks.map(async (l) => {
      const row = await judgeOne(client, lister, kubelockRow(l, object, namespace, null));
      return { ...l, alive: row.alive, aliveReason: row.aliveReason, stuck: row.stuck, breakCommand: row.breakCommand };
    }),
  );
}

function lockTable(locks: Judged[]): string {
  const rows = locks.map((l) => [
    l.lock,
    l.owner ?? '-',
    l.state,
    l.createdAt ?? '-',
    l.ttlSeconds === null ? '-' : formatDuration(l.ttlSeconds * 1000),
    l.state === 'held' && l.expiresInSeconds !== null ? `in ${formatDuration(l.expiresInSeconds * 1000)}` : '-',
    l.owner === null || l.state === 'free' ? '-' : aliveText(l),
  ]);
  const breaks = locks.filter((l) => l.breakCommand).map((l) => `Break ${l.lock} with: ${l.breakCommand}`);
  return [renderTable(['LOCK', 'OWNER', 'STATE', 'CREATED', 'TTL', 'EXPIRES', 'ALIVE'], rows), ...breaks].join('\n');
}
