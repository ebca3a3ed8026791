/**
 * Whether a lock's holder is alive, judged from the Pod or Node its identity names. Pure apart
 * from the lookups it is given (src/kube/liveness.ts reads them through client-node).
 *
 * Identities seen in the wild (docs/status.md, "Liveness"): the Pod's name (koncli's default holder inside a
 * Pod, kube-lock, giantswarm/kubelock operators), client-go leader election's `<hostname>_<uuid>`
 * (k8s.io/client-go/tools/leaderelection: `id := hostname + "_" + string(uuid.NewUUID())`), koncli
 * `lease run`'s `<hostname>-<8 hex>` (src/cli/holder.ts), and for a hostNetwork Pod a host name that
 * is its Node's name.
 */

/** A Pod as far as liveness cares. */
export interface PodFact {
  name: string;
  /** Set when the Pod was found outside the lock's namespace (a cluster-wide look-up). */
  namespace?: string;
  phase: string;
  /** metadata.deletionTimestamp is set. */
  terminating: boolean;
}

/** A Node as far as liveness cares: its Ready condition ('True', 'False', 'Unknown', or absent). */
export interface NodeFact {
  name: string;
  ready: string | undefined;
}

/**
 * The reads liveness needs. Each resolves null when there is no such object and rejects with a
 * KoncliError (kind `forbidden` when RBAC says no) when it cannot tell.
 */
export interface LivenessLookup {
  pod(namespace: string, name: string): Promise<PodFact | null>;
  /**
   * Every Pod of that name in any namespace (a cluster-wide list by metadata.name). A holder's
   * identity carries no namespace (client-go's `<hostname>_<uuid>`, koncli's host name), and a
   * controller may hold a Lease in another namespace than its own (controller-runtime's
   * LeaderElectionNamespace), so a Pod missing from the lock's namespace may run elsewhere.
   */
  podsNamed(name: string): Promise<PodFact[]>;
  node(name: string): Promise<NodeFact | null>;
}

export interface Liveness {
  /** true: running (or still terminating); false: dead with certainty; null: cannot tell. */
  alive: boolean | null;
  /** For people and --json: the evidence, e.g. "Pod web-7d9-x2k4q is Running". */
  reason: string;
}

const UUID = /^(.+)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RUN_SUFFIX = /^(.+)-[0-9a-f]{8}$/;
/** A DNS subdomain (RFC 1123), what Pod and Node names are. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/**
 * A name a controller generated (ReplicaSet, Job, DaemonSet Pods): `-` and five characters of
 * apimachinery's rand.String alphabet, which has no vowels and no 0, 1, 3 (k8s.io/apimachinery/pkg/util/rand).
 * Such a name is never reused, so when its Pod is not there it is gone.
 */
const GENERATED = /-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

/** The Pod or Node names an identity may stand for, most specific first. */
export function candidateNames(identity: string): string[] {
  const out: string[] = [];
  const add = (n: string | undefined) => {
    if (n && n.length <= 253 && OBJECT_NAME.test(n) && !out.includes(n)) out.push(n);
  };
  add(identity);
  // client-go's `<hostname>_<uuid>`; any `<name>_<suffix>` read the same way.
  const clientGo = UUID.exec(identity)?.[1] ?? (identity.includes('_') ? identity.slice(0, identity.lastIndexOf('_')) : undefined);
  add(clientGo);
  add(RUN_SUFFIX.exec(identity)?.[1]);
  if (clientGo) add(RUN_SUFFIX.exec(clientGo)?.[1]);
  return out;
}

function podVerdict(pod: PodFact): Liveness {
  const what = `Pod ${pod.name}${pod.namespace ? ` in namespace ${pod.namespace}` : ''}`;
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return { alive: false, reason: `${what} has ${pod.phase.toLowerCase()}` };
  if (pod.terminating) return { alive: true, reason: `${what} is terminating (its containers may still run)` };
  return { alive: true, reason: `${what} is ${pod.phase || 'Pending'}` };
}

/** Of Pods of one name in several namespaces: alive if any is (never "dead" for a holder that may be alive). */
function podsVerdict(pods: PodFact[]): Liveness {
  const verdicts = pods.map(podVerdict);
  return verdicts.find((v) => v.alive) ?? verdicts[0];
}

function nodeVerdict(node: NodeFact): Liveness {
  if (node.ready === 'True') return { alive: true, reason: `Node ${node.name} is Ready (a hostNetwork Pod's host name is its Node's)` };
  return { alive: false, reason: `Node ${node.name} is not Ready (Ready=${node.ready ?? 'absent'})` };
}

const forbidden = (err: unknown) => (err as { kind?: string }).kind === 'forbidden';

/** Runs one lookup; a refusal is remembered as a reason, any other failure too. */
async function tryLookup<T>(fn: () => Promise<T | null>, refusals: string[], what: string): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    refusals.push(forbidden(err) ? `may not get ${what} (RBAC)` : `could not read ${what}: ${(err as Error).message}`);
    return null;
  }
}

/** The Pod a candidate name stands for: in the lock's namespace first, else in any namespace. */
async function findPod(names: string[], namespace: string | undefined, lookup: LivenessLookup, refusals: string[]): Promise<Liveness | undefined> {
  if (namespace !== undefined) {
    for (const name of names) {
      const pod = await tryLookup(() => lookup.pod(namespace, name), refusals, `pods in namespace ${namespace}`);
      if (pod) return podVerdict(pod);
    }
  }
  for (const name of names) {
    const pods = await tryLookup(() => lookup.podsNamed(name), refusals, 'pods in all namespaces');
    if (pods?.length) return podsVerdict(pods);
  }
  return undefined;
}

/**
 * Judges one holder: a Pod of a candidate name in `namespace` (the lock's; undefined for a
 * cluster-scoped object), else in any namespace, else a Node of a candidate name, else gone when
 * the name is one a controller generated and no Pod of it exists in any namespace, else unknown.
 * A look-up RBAC refuses makes the verdict unknown, never dead.
 */
export async function judgeHolder(identity: string, namespace: string | undefined, lookup: LivenessLookup): Promise<Liveness> {
  const names = candidateNames(identity);
  if (names.length === 0) return { alive: null, reason: `unknown: ${JSON.stringify(identity)} cannot be a Pod or Node name` };
  const refusals: string[] = [];
  const pod = await findPod(names, namespace, lookup, refusals);
  if (pod) return pod;
  for (const name of names) {
    const node = await tryLookup(() => lookup.node(name), refusals, 'nodes');
    if (node) return nodeVerdict(node);
  }
  const generated = names.find((n) => GENERATED.test(n));
  if (generated && !refusals.some((r) => r.includes('pods'))) {
    return { alive: false, reason: `Pod ${generated} is gone (no such Pod in any namespace, and a controller never reuses the name)` };
  }
  const why = refusals.length
    ? [...new Set(refusals)].join('; ')
    : `no Pod in any namespace and no Node is named ${names.join(' or ')}; it may be a process outside the cluster`;
  return { alive: null, reason: `unknown: ${why}` };
}
