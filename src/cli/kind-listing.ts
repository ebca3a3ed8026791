import { Flags } from '@oclif/core';
import type { LockLister, LockRow } from '../core/status/model.js';
import type { KubeClient } from '../kube/client.js';
import { commandPrefix } from './invocation.js';
import type { Output } from './output.js';

/** The flags of a per-kind listing, as `koncli status` has them. */
export const listingFlags = (noun: string) => ({
  'all-namespaces': Flags.boolean({ char: 'A', description: `list ${noun} in all namespaces` }),
  selector: Flags.string({ char: 'l', description: 'label selector (kubectl’s -l), e.g. app=web,tier!=db' }),
  system: Flags.boolean({ description: 'with -A, include kube-node-lease and kube-system (node heartbeats, the control plane’s own)' }),
});

/** What a per-kind listing covers: -A (all namespaces), -l, --system. */
export interface KindListingScope {
  allNamespaces: boolean;
  labelSelector?: string;
  system?: boolean;
}

/** The parsed `listingFlags`. */
export type ListingFlagValues = { 'all-namespaces': boolean; selector?: string; system: boolean };

export const scopeOf = (flags: ListingFlagValues): KindListingScope => ({
  allNamespaces: flags['all-namespaces'],
  labelSelector: flags.selector,
  system: flags.system,
});

/**
 * The listing form of a per-kind status command (`lease status`, `semaphore status`, `kubelock
 * status` without a name): `koncli status`'s loop for that one kind — the same liveness, stuck
 * verdicts and break commands — printed with its columns (without KIND; NAMESPACE with -A) and,
 * under --json, the same `LockList` document. `oneShot` runs the reads under the retry policy.
 */
export async function printKindListing(
  output: Output,
  client: KubeClient,
  lister: LockLister,
  scope: KindListingScope,
  noun: string,
  oneShot: <T>(read: () => Promise<T>) => Promise<T>,
): Promise<LockRow[]> {
  const [{ listLocks }, { livenessJudge }, text] = await Promise.all([
    import('../core/status/list.js'),
    import('../kube/liveness.js'),
    import('./status-text.js'),
  ]);
  const opts = {
    scope: { namespace: scope.allNamespaces ? undefined : client.namespace, labelSelector: scope.labelSelector },
    system: !!scope.system,
    stuck: false,
    bin: commandPrefix(),
  };
  const { rows, skipped } = await oneShot(() => listLocks([lister], livenessJudge(client), opts));
  if (output.verbose) for (const s of skipped) output.info(`skipped ${s}`);
  const wallNow = client.clock.wallNow();
  await output.result({ kind: 'LockList', items: rows }, () =>
    rows.length === 0
      ? `No ${noun} found${scope.allNamespaces ? '' : ` in namespace ${client.namespace}`}.`
      : text.statusTable(rows, false, wallNow, { kind: false, namespace: scope.allNamespaces }) + text.breakHints(rows),
  );
  return rows;
}

/**
 * What `status NAME` of a kind says of its one lock besides its own fields (issue 23: what to do,
 * first): each holder's liveness, the stuck verdict and the command that breaks it safely, judged
 * as `koncli status` judges the same row.
 */
export async function judgeOne(client: KubeClient, lister: LockLister, row: LockRow): Promise<LockRow> {
  const [{ judgeRow }, { livenessJudge }] = await Promise.all([import('../core/status/list.js'), import('../kube/liveness.js')]);
  return judgeRow(row, lister, livenessJudge(client), commandPrefix());
}

/** "yes (Pod x is Running)", "no (…)", "unknown (…)": a holder's liveness for people. */
export const aliveText = (h: { alive: boolean | null; aliveReason: string | null } | undefined) =>
  h ? `${h.alive === true ? 'yes' : h.alive === false ? 'no' : 'unknown'} (${(h.aliveReason ?? '').replace(/^unknown: /, '')})` : '-';
