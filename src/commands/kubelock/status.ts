import { Args } from '@oclif/core';
import { EXIT_CODES_SECTION, KoncliCommand } from '../../cli/base-command.js';
import { formatDuration } from '../../cli/duration.js';
import { openKubelocks, parseTarget } from '../../cli/kubelock-session.js';
import { renderTable } from '../../cli/table.js';
import type { LockStatus } from '../../core/kubelock/describe.js';
import { KoncliError } from '../../core/errors.js';

export default class KubelockStatus extends KoncliCommand {
  static override summary = "List the kubelock locks on an object: owner, state, and expiry on this machine's clock";
  static override description = `Every kubelock.giantswarm.io/<lock> annotation on the object, whoever wrote it: owner, createdAt (the owner's own clock, shown only), TTL, and whether it is held or expired judged on this machine's clock (docs/kubelock.md). A record koncli cannot read shows as corrupt.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> kubelock status configmap/cluster-config', '<%= config.bin %> kubelock status namespace/team-a --json'];
  static override args = {
    'TYPE/NAME': Args.string({ description: 'the object, e.g. configmap/foo, deployments.apps/web, namespace/team-a', required: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(KubelockStatus);
    const target = parseTarget(args['TYPE/NAME']);
    const client = await this.kube();
    const ctx = await openKubelocks(client, target.type);
    const what = ctx.store.describe(target.name);
    const obj = await this.oneShot(ctx.clock, () => ctx.store.get(target.name));
    if (!obj) throw new KoncliError('not-found', `${what} not found`);
    const { describeLocks } = await import('../../core/kubelock/describe.js');
    const locks = describeLocks(obj, what, ctx.tracker, ctx.clock.now(), ctx.clock.wallNow());
    if (!this.output.machine) for (const l of locks) if (l.error) this.output.warn(l.error);
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
        locks,
      },
      () => (locks.length === 0 ? `No kubelock locks on ${what}.` : lockTable(locks)),
    );
  }
}

function lockTable(locks: LockStatus[]): string {
  const rows = locks.map((l) => [
    l.lock,
    l.owner ?? '-',
    l.state,
    l.createdAt ?? '-',
    l.ttlSeconds === null ? '-' : formatDuration(l.ttlSeconds * 1000),
    l.state === 'held' && l.expiresInSeconds !== null ? `in ${formatDuration(l.expiresInSeconds * 1000)}` : '-',
  ]);
  return renderTable(['LOCK', 'OWNER', 'STATE', 'CREATED', 'TTL', 'EXPIRES'], rows);
}
