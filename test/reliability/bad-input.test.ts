// A catalogue of bad input across every command, against the real API server. Each row runs
// twice (text, then --json) and must: exit with the documented code (src/cli/exit-codes.ts),
// print exactly one `koncli: error:` line naming the problem (with --json also exactly one JSON
// error document on stdout, and nothing else), and leave every involved object, and the
// namespace's Events, at the resourceVersion it had before.
//
// Then the documented non-failures next to them (a missing `events create` only warns; koncli
// never needs `update`), and objects deleted while a command waits on them.
import { readFileSync } from 'node:fs';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { EXIT_CODE_TABLE } from '../../src/cli/exit-codes.js';
import { closedPort } from '../support/admission.js';
import { collect, runKoncli, spawnKoncli, type CliResult } from '../support/cli.js';
import {
  KONDUCTOR_CRD,
  absent,
  adminKubeconfigPath,
  configMap,
  createSeeds,
  deployment,
  documentedRulesWithout,
  expectFailure,
  freshNamespace,
  giantswarmLock,
  kubeLock,
  lease,
  restrictedKubeconfigPath,
  restrictedNamespaceWith,
  scratchPath,
  silentServer,
  sleep,
  snapshot,
  withFlags,
  writeKubeconfig,
  writeScratch,
  type Ref,
  type RoleResource,
  type Seed,
} from './helpers.js';
import { adminConfig, documentedRbac } from '../integration/helpers.js';

// ---------------------------------------------------------------- who runs a case

/** Admin; the restricted user with the documented Role minus one verb (or the Role as documented); or a broken kubeconfig. */
type Access = { admin: true } | { restricted: [RoleResource, string] | 'documented' } | { kubeconfig: () => Promise<string> };

const ADMIN: Access = { admin: true };
const without = (resource: RoleResource, verb: string): Access => ({ restricted: [resource, verb] });
const DOCUMENTED: Access = { restricted: 'documented' };
const broken = (make: () => string | Promise<string>): Access => {
  let path: Promise<string> | undefined;
  return { kubeconfig: () => (path ??= Promise.resolve(make())) };
};

const GROUP: Record<RoleResource, string> = { leases: 'coordination.k8s.io', configmaps: '', events: '' };

let adminNamespace: Promise<string> | undefined;
/** The namespace a case runs in; created (and, for the restricted user, bound) on first use. */
function namespaceOf(access: Access): Promise<string> {
  if (!('restricted' in access)) return (adminNamespace ??= freshNamespace('rel-bad-input'));
  if (access.restricted === 'documented') {
    return restrictedNamespaceWith('documented', documentedRbac().role.rules!, { verb: 'update', group: 'coordination.k8s.io', resource: 'leases' });
  }
  const [resource, verb] = access.restricted;
  const rules = documentedRulesWithout(resource, verb);
  // The binding is in effect once a verb the Role still grants is allowed.
  const kept = rules.find((r) => r.resources?.includes(resource))?.verbs[0];
  const probe = kept ? { verb: kept, group: GROUP[resource], resource } : { verb: 'get', group: 'coordination.k8s.io', resource: 'leases' };
  return restrictedNamespaceWith(`no-${verb}-${resource}`, rules, probe);
}

async function kubeconfigOf(access: Access): Promise<string> {
  if ('kubeconfig' in access) return access.kubeconfig();
  return 'admin' in access ? adminKubeconfigPath() : restrictedKubeconfigPath();
}

// ---------------------------------------------------------------- broken cluster access

const BOGUS_TOKEN = broken(() => writeKubeconfig({ user: { token: 'not-a-token-the-server-knows' } }));
const CLOSED_PORT = broken(async () => writeKubeconfig({ server: `https://127.0.0.1:${await closedPort()}` }));
let hung: Awaited<ReturnType<typeof silentServer>> | undefined;
const HUNG_SERVER = broken(async () => writeKubeconfig({ server: (hung ??= await silentServer()).url }));
afterAll(async () => hung?.close());

// ---------------------------------------------------------------- the catalogue

interface Case {
  what: string;
  args: string[];
  code: number;
  error: RegExp;
  /** Warnings the case may print besides the error line (each must match). */
  warning?: RegExp;
  access?: Access;
  /** Objects created before the case (or that must stay absent); all are snapshotted. */
  seeds?: Seed[];
  /** Further objects to snapshot. */
  refs?: Ref[];
  /** Pass this -n instead of the case's namespace. */
  namespace?: string;
  /** Run with this environment and no --kubeconfig. */
  env?: Record<string, string>;
  /** Each run must end within this bound. */
  withinMs?: number;
}

const HELD = lease('held-a');
const FREE = lease('free-a', '');
const SEM = configMap('sem-a', { 'kube-lock': kubeLock(1, 'someone-else') });
const TARGET = configMap('target-a', { 'kubelock.giantswarm.io/l': giantswarmLock('someone-else') });
/** Shared by the flag cases: a wrong write to any of them would change its resourceVersion. */
const SHARED = [HELD, FREE, SEM, TARGET];
const shared = (...seeds: Seed[]) => ({ refs: SHARED.map((s) => s.ref), seeds });
const LONG_NAME = 'a'.repeat(254);
const INVALID_NAME = /name ".*" is invalid: use at most 253 lower-case letters/;

const CASES: Case[] = [
  // malformed names
  {
    what: 'lease acquire: upper-case name',
    args: ['lease', 'acquire', 'Held-A', '--holder', 'me'],
    code: 2,
    error: /lease name "Held-A" is invalid: .*; did you mean held-a\?$/,
    ...shared(),
  },
  {
    what: 'lease renew: underscore in name',
    args: ['lease', 'renew', 'held_a', '--holder', 'me'],
    code: 2,
    error: /lease name "held_a" is invalid/,
    ...shared(),
  },
  { what: 'lease release: name of 254 characters', args: ['lease', 'release', LONG_NAME, '--holder', 'me'], code: 2, error: INVALID_NAME, ...shared() },
  { what: 'lease status: empty name', args: ['lease', 'status', ''], code: 2, error: /lease name "" is invalid/, ...shared() },
  { what: 'lease run: underscore in name', args: ['lease', 'run', 'free_a', '--', 'true'], code: 2, error: /lease name "free_a" is invalid/, ...shared() },
  {
    what: 'semaphore lock: upper case and underscore',
    args: ['semaphore', 'lock', 'Sem_A', '--holder', 'me'],
    code: 2,
    error: /semaphore name "Sem_A" is invalid/,
    ...shared(),
  },
  { what: 'semaphore unlock: name of 254 characters', args: ['semaphore', 'unlock', LONG_NAME, '--holder', 'me'], code: 2, error: INVALID_NAME, ...shared() },
  {
    what: 'semaphore status: upper-case name',
    args: ['semaphore', 'status', 'SEM-A'],
    code: 2,
    error: /semaphore name "SEM-A" is invalid: .*did you mean sem-a\?/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: TYPE without NAME',
    args: ['kubelock', 'annotate', 'configmap', '--lock', 'l', '--owner', 'me'],
    code: 2,
    error: /"configmap" is not TYPE\/NAME/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: upper-case object name',
    args: ['kubelock', 'annotate', 'cm/Target_A', '--lock', 'l', '--owner', 'me'],
    code: 2,
    error: /object name "Target_A" is invalid/,
    ...shared(),
  },
  { what: 'kubelock status: empty NAME', args: ['kubelock', 'status', 'cm/'], code: 2, error: /"cm\/" is not TYPE\/NAME/, ...shared() },
  {
    what: 'kubelock annotate: lock name with a space',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'bad lock', '--owner', 'me'],
    code: 2,
    error: /--lock "bad lock" is invalid/,
    ...shared(),
  },
  {
    what: 'lease acquire: namespace with upper case and underscore',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me'],
    namespace: 'Bad_NS',
    code: 2,
    error: /namespace "Bad_NS" is invalid/,
    ...shared(),
  },
  {
    what: 'lease acquire: holder with a control character',
    args: ['lease', 'acquire', 'free-a', '--holder', 'a\tb'],
    code: 2,
    error: /--holder "a\\tb" is invalid/,
    ...shared(),
  },

  // malformed, negative and huge durations
  {
    what: 'semaphore lock: --ttl 10x',
    args: ['semaphore', 'lock', 'sem-a', '--holder', 'me', '--ttl', '10x'],
    code: 2,
    error: /--ttl "10x" is not a duration/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: --ttl -5s',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'l', '--owner', 'me', '--ttl', '-5s'],
    code: 2,
    error: /--ttl "-5s" is negative/,
    ...shared(),
  },
  {
    what: 'lease acquire: --ttl 1.5s (not whole seconds)',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me', '--ttl', '1.5s'],
    code: 2,
    error: /--ttl "1.5s" is not a whole number of seconds; use e.g. 2s/,
    ...shared(),
  },
  {
    what: 'lease renew: --ttl 99999999999h',
    args: ['lease', 'renew', 'held-a', '--holder', 'someone-else', '--ttl', '99999999999h'],
    code: 2,
    error: /--ttl "99999999999h" is too long; the maximum is 2147483647s/,
    ...shared(),
  },
  { what: 'lease run: --ttl 0', args: ['lease', 'run', 'free-a', '--ttl', '0', '--', 'true'], code: 2, error: /--ttl "0" is shorter than 1s/, ...shared() },
  {
    what: 'lease acquire: --timeout 99999999999h',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me', '--timeout', '99999999999h'],
    code: 2,
    error: /--timeout 99999999999h is too long/,
    ...shared(),
  },
  {
    what: 'semaphore lock: --timeout 5 minutes',
    args: ['semaphore', 'lock', 'sem-a', '--holder', 'me', '--timeout', '5 minutes'],
    code: 2,
    error: /--timeout "5 minutes" is not a duration/,
    ...shared(),
  },
  {
    what: 'lease status: --request-timeout 0',
    args: ['lease', 'status', 'held-a', '--request-timeout', '0'],
    code: 2,
    error: /--request-timeout must be positive/,
    ...shared(),
  },
  {
    what: 'lease status: --request-timeout 99999999999h (beyond any timer)',
    args: ['lease', 'status', 'held-a', '--request-timeout', '99999999999h'],
    code: 2,
    error: /--request-timeout "99999999999h" is too long; the maximum is 24d20h/,
    ...shared(),
  },
  {
    what: 'lease run: --kill-after 99999999999h (beyond the longest TTL)',
    args: ['lease', 'run', 'free-a', '--kill-after', '99999999999h', '--', 'true'],
    code: 2,
    error: /--kill-after "99999999999h" is too long/,
    ...shared(),
  },
  {
    what: 'lease run: --kill-after -5s',
    args: ['lease', 'run', 'free-a', '--kill-after', '-5s', '--', 'true'],
    code: 2,
    error: /--kill-after "-5s" is negative/,
    ...shared(),
  },
  {
    what: 'crd install: --timeout 10x',
    args: ['crd', 'install', '--timeout', '10x'],
    code: 2,
    error: /--timeout "10x" is not a duration/,
    refs: [KONDUCTOR_CRD],
  },

  // bad priorities, labels, signals, max and other flags
  {
    what: 'lease acquire: --priority abc',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me', '--priority', 'abc'],
    code: 2,
    error: /--priority Expected an integer but received: abc/,
    ...shared(),
  },
  {
    what: 'lease run: --priority 99999999',
    args: ['lease', 'run', 'free-a', '--priority', '99999999', '--', 'true'],
    code: 2,
    error: /--priority Expected an integer less than or equal to 1000000/,
    ...shared(),
  },
  {
    what: 'lease acquire: --labels a=b=c',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me', '--labels', 'a=b=c'],
    code: 2,
    error: /--labels "a=b=c" is not a valid label/,
    ...shared(),
  },
  {
    what: 'lease run: --labels with an empty key',
    args: ['lease', 'run', 'free-a', '--labels', '=x', '--', 'true'],
    code: 2,
    error: /--labels "=x" is not a valid label/,
    ...shared(),
  },
  {
    what: 'lease run: --signal FOO',
    args: ['lease', 'run', 'free-a', '--signal', 'FOO', '--', 'true'],
    code: 2,
    error: /--signal FOO is not a signal name/,
    ...shared(),
  },
  { what: 'lease run: no command', args: ['lease', 'run', 'free-a'], code: 2, error: /no command given/, ...shared() },
  {
    what: 'lease run: --conflict-exit-code 300',
    args: ['lease', 'run', 'free-a', '--conflict-exit-code', '300', '--', 'true'],
    code: 2,
    error: /--conflict-exit-code Expected an integer less than or equal to 255/,
    ...shared(),
  },
  {
    what: 'semaphore lock: --max 0',
    args: ['semaphore', 'lock', 'sem-a', '--holder', 'me', '--max', '0'],
    code: 2,
    error: /--max Expected an integer greater than or equal to 1/,
    ...shared(),
  },
  {
    what: 'semaphore lock: --max abc',
    args: ['semaphore', 'lock', 'sem-a', '--holder', 'me', '--max', 'abc'],
    code: 2,
    error: /--max Expected an integer but received: abc/,
    ...shared(),
  },
  {
    what: 'semaphore lock: --set-max without --max',
    args: ['semaphore', 'lock', 'sem-a', '--holder', 'me', '--set-max'],
    code: 2,
    error: /--set-max: --max/,
    ...shared(),
  },
  {
    what: 'semaphore unlock: --force without --if-holder or --dead',
    args: ['semaphore', 'unlock', 'sem-a', '--force'],
    code: 2,
    error: /--force needs --if-holder X \(the holders to remove\) or --dead; --holder names you, the operator/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: an empty --owner (the alias of --holder)',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'l', '--owner', ''],
    code: 2,
    error: /--holder "" is invalid: use 1 to 253 printable characters/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: --force without --release',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'l', '--owner', 'me', '--force'],
    code: 2,
    error: /--force only applies to --release/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: --release with --wait',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'l', '--owner', 'me', '--release', '--wait'],
    code: 2,
    error: /--wait and --timeout do not apply to --release/,
    ...shared(),
  },
  {
    what: 'lease acquire: --renewable maybe',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me', '--renewable', 'maybe'],
    code: 2,
    error: /--renewable=maybe to be one of: true, false/,
    ...shared(),
  },
  {
    what: 'lease status: --kind foo',
    args: ['lease', 'status', 'held-a', '--kind', 'foo'],
    code: 2,
    error: /--kind=foo to be one of: native, konductor/,
    ...shared(),
  },
  {
    what: 'semaphore status: -o xml',
    args: ['semaphore', 'status', 'sem-a', '-o', 'xml'],
    code: 2,
    error: /--output=xml to be one of: text, json, yaml/,
    ...shared(),
  },
  {
    what: 'kubelock status: unknown flag',
    args: ['kubelock', 'status', 'cm/target-a', '--lock', 'l'],
    code: 2,
    error: /Nonexistent flag: --lock/,
    ...shared(),
  },

  // objects, holders and resource types that are not there
  {
    what: 'lease renew: the Lease does not exist',
    args: ['lease', 'renew', 'missing-a', '--holder', 'me'],
    code: 4,
    error: /lease missing-a no longer exists/,
    seeds: [absent('Lease', 'missing-a')],
  },
  {
    what: 'lease release: held by someone else',
    args: ['lease', 'release', 'held-a', '--holder', 'me'],
    code: 5,
    error: /lease held-a is held by someone-else, not me; add --force/,
    ...shared(),
  },
  {
    what: 'lease status: the Lease does not exist',
    args: ['lease', 'status', 'missing-b'],
    code: 6,
    error: /lease missing-b not found in namespace/,
    seeds: [absent('Lease', 'missing-b')],
  },
  {
    what: 'semaphore lock: no ConfigMap and no --create',
    args: ['semaphore', 'lock', 'missing-c', '--holder', 'me'],
    code: 6,
    error: /semaphore missing-c \(a ConfigMap\) does not exist .*add --create/,
    seeds: [absent('ConfigMap', 'missing-c')],
  },
  {
    what: 'semaphore unlock --force: not a holder (a force that breaks nothing)',
    args: ['semaphore', 'unlock', 'sem-a', '--force', '--if-holder', 'me'],
    code: 5,
    error: /semaphore sem-a is held by someone-else, not by me any more: nothing was broken/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: the object does not exist',
    args: ['kubelock', 'annotate', 'cm/missing-d', '--lock', 'l', '--owner', 'me'],
    code: 6,
    error: /configmaps\/missing-d in namespace .* not found/,
    seeds: [absent('ConfigMap', 'missing-d')],
  },
  {
    what: 'kubelock annotate --release --force: no such lock (a force that breaks nothing)',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'other', '--owner', 'me', '--release', '--force'],
    code: 5,
    error: /there is no lock other on configmaps\/target-a.*: nothing was broken/,
    ...shared(),
  },
  {
    what: 'kubelock annotate: a resource type that does not exist',
    args: ['kubelock', 'annotate', 'frobnicators/x', '--lock', 'l', '--owner', 'me'],
    code: 6,
    error: /the server doesn't have a resource type "frobnicators"/,
  },
  {
    what: 'kubelock status: a group that does not exist',
    args: ['kubelock', 'status', 'widgets.nowhere.example.com/x'],
    code: 6,
    error: /resource type "widgets.nowhere.example.com"/,
  },

  // corrupt annotations: koncli's own, kube-lock's and giantswarm's
  {
    what: "lease acquire: koncli's waiter queue is not JSON",
    args: ['lease', 'acquire', 'bad-waiters', '--holder', 'me', '--wait', '--timeout', '5s'],
    code: 9,
    error: /annotation koncli.dev\/waiters="\[oops" is not JSON/,
    seeds: [lease('bad-waiters', '', { 'koncli.dev/waiters': '[oops' })],
  },
  {
    what: "lease renew: koncli's renewable is neither true nor false",
    args: ['lease', 'renew', 'bad-renewable', '--holder', 'me'],
    code: 9,
    error: /koncli.dev\/renewable="maybe"/,
    seeds: [lease('bad-renewable', 'me', { 'koncli.dev/renewable': 'maybe' })],
  },
  {
    what: "lease status: koncli's priority is not an integer",
    args: ['lease', 'status', 'bad-priority'],
    code: 9,
    error: /koncli.dev\/priority="high" is not an integer/,
    seeds: [lease('bad-priority', 'x', { 'koncli.dev/priority': 'high' })],
  },
  {
    what: 'lease release --force: corrupt koncli annotation',
    args: ['lease', 'release', 'bad-renewals', '--holder', 'me', '--force'],
    code: 9,
    error: /koncli.dev\/renewals="1e3"/,
    seeds: [lease('bad-renewals', 'x', { 'koncli.dev/renewals': '1e3' })],
  },
  {
    what: 'lease run: corrupt koncli annotation',
    args: ['lease', 'run', 'bad-run', '--', 'true'],
    code: 9,
    error: /koncli.dev\/waiters/,
    seeds: [lease('bad-run', '', { 'koncli.dev/waiters': '{"next":1,"waiters":[{"id":""}]}' })],
  },
  {
    what: "semaphore lock: kube-lock's annotation is not JSON",
    args: ['semaphore', 'lock', 'kl-json', '--holder', 'me'],
    code: 9,
    error: /semaphore kl-json: annotation kube-lock="\{bad" is not valid JSON/,
    seeds: [configMap('kl-json', { 'kube-lock': '{bad' })],
  },
  {
    what: "semaphore unlock: kube-lock's max is 0",
    args: ['semaphore', 'unlock', 'kl-max', '--holder', 'me'],
    code: 9,
    error: /"max" that is not a positive integer/,
    seeds: [configMap('kl-max', { 'kube-lock': '{"max":0,"holders":{"me":{"date":"","reason":""}}}' })],
  },
  {
    what: "semaphore status: kube-lock's holders is a list",
    args: ['semaphore', 'status', 'kl-holders'],
    code: 9,
    error: /"holders" that is not an object/,
    seeds: [configMap('kl-holders', { 'kube-lock': '{"max":1,"holders":["me"]}' })],
  },
  {
    what: 'semaphore lock --wait: corrupt annotation',
    args: ['semaphore', 'lock', 'kl-wait', '--holder', 'me', '--wait', '--timeout', '5s'],
    code: 9,
    error: /semaphore kl-wait: annotation kube-lock/,
    seeds: [configMap('kl-wait', { 'kube-lock': '[]' })],
  },
  {
    what: "kubelock annotate: giantswarm's record is not JSON",
    args: ['kubelock', 'annotate', 'cm/gs-json', '--lock', 'x', '--owner', 'me'],
    code: 9,
    error: /kubelock.giantswarm.io\/x="\{not json" is not a kubelock record \(not JSON\)/,
    seeds: [configMap('gs-json', { 'kubelock.giantswarm.io/x': '{not json' })],
  },
  {
    what: "kubelock annotate --release: giantswarm's ttl is not nanoseconds",
    args: ['kubelock', 'annotate', 'cm/gs-ttl', '--lock', 'x', '--owner', 'me', '--release'],
    code: 9,
    error: /ttl is not a whole number of nanoseconds/,
    seeds: [configMap('gs-ttl', { 'kubelock.giantswarm.io/x': '{"owner":"me","createdAt":"2026-01-01T00:00:00Z","ttl":"soon"}' })],
  },
  {
    what: "kubelock annotate --wait: giantswarm's owner is a number",
    args: ['kubelock', 'annotate', 'cm/gs-owner', '--lock', 'x', '--owner', 'me', '--wait', '--timeout', '5s'],
    code: 9,
    error: /owner is not a string/,
    seeds: [configMap('gs-owner', { 'kubelock.giantswarm.io/x': '{"owner":42}' })],
  },

  // cluster access: kubeconfig, context, server, credentials
  {
    what: 'kubeconfig file does not exist',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me'],
    access: broken(() => scratchPath('no-such-kubeconfig')),
    code: 8,
    error: /kubeconfig .*no-such-kubeconfig does not exist/,
    ...shared(),
  },
  {
    what: 'kubeconfig is not valid YAML',
    args: ['semaphore', 'lock', 'sem-a', '--holder', 'me'],
    access: broken(() => writeScratch('apiVersion: v1\nclusters: [ {name: x\n  - :: bad\n')),
    code: 8,
    error: /kubeconfig .* cannot be read \(.*\); fix the file/,
    ...shared(),
  },
  {
    what: 'kubeconfig whose aliases expand it a billion-fold',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me'],
    access: broken(() =>
      writeScratch(
        [
          'apiVersion: v1',
          'a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]',
          ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`),
          'clusters: *a9',
        ].join('\n'),
      ),
    ),
    code: 8,
    error: /kubeconfig .* cannot be read \(its aliases expand it .*excessive aliasing\); fix the file/,
    ...shared(),
  },
  {
    what: 'kubeconfig is empty',
    args: ['kubelock', 'status', 'cm/target-a'],
    access: broken(() => writeScratch('')),
    code: 8,
    error: /kubeconfig .* cannot be read/,
    ...shared(),
  },
  {
    what: 'context names a cluster the kubeconfig does not define',
    args: ['lease', 'status', 'held-a'],
    access: broken(() => writeKubeconfig({ contextCluster: 'gone' })),
    code: 8,
    error: /context "ctx" names cluster "gone", which .* does not define/,
    ...shared(),
  },
  {
    what: 'context names a user the kubeconfig does not define',
    args: ['semaphore', 'unlock', 'sem-a', '--holder', 'someone-else'],
    access: broken(() => writeKubeconfig({ contextUser: 'ghost' })),
    code: 8,
    error: /context "ctx" names user "ghost", which .* does not define/,
    ...shared(),
  },
  {
    what: 'server address without a scheme',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'l', '--owner', 'me'],
    access: broken(() => writeKubeconfig({ server: '127.0.0.1:6443' })),
    code: 8,
    error: /cluster "c" has no usable server address \("127.0.0.1:6443"\)/,
    ...shared(),
  },
  {
    what: 'server address with user:password@',
    args: ['semaphore', 'status', 'sem-a'],
    access: broken(() => writeKubeconfig({ server: 'https://someone:hunter2@127.0.0.1:6443' })),
    code: 8,
    error: /cluster "c" has a user name or password in its server address \(https:\/\/<redacted>@127.0.0.1:6443\)/,
    ...shared(),
  },
  {
    what: 'no current context',
    args: ['lease', 'renew', 'held-a', '--holder', 'someone-else'],
    access: broken(() => writeKubeconfig({ currentContext: null })),
    code: 8,
    error: /has no current context; pass --context or fix current-context \(known: ctx\)/,
    ...shared(),
  },
  {
    what: 'current-context names a context the kubeconfig does not define',
    args: ['lease', 'status', 'held-a'],
    access: broken(() => writeKubeconfig({ currentContext: 'ghost' })),
    code: 8,
    error: /sets current-context "ghost", which it does not define; pass --context or fix current-context \(known: ctx\)/,
    ...shared(),
  },
  {
    what: 'unknown --context',
    args: ['semaphore', 'status', 'sem-a', '--context', 'nope'],
    code: 8,
    error: /context "nope" is not in .*; known contexts: koncli-admin/,
    ...shared(),
  },
  {
    what: 'KUBECONFIG names only files that do not exist',
    args: ['lease', 'status', 'held-a'],
    env: { KUBECONFIG: '/nonexistent/a:/nonexistent/b' },
    code: 8,
    error: /none of the KUBECONFIG files exist/,
    ...shared(),
  },
  {
    what: 'unreachable server (closed port), while --wait',
    args: ['semaphore', 'lock', 'sem-a', '--holder', 'me', '--wait', '--timeout', '60s', '--request-timeout', '2s'],
    access: CLOSED_PORT,
    code: 8,
    error: /cannot reach the API server at https:\/\/127.0.0.1:\d+ \(ECONNREFUSED\) while trying to get configmaps sem-a/,
    withinMs: 10_000,
  },
  {
    what: 'unreachable server (closed port): kubelock discovery',
    args: ['kubelock', 'annotate', 'cm/target-a', '--lock', 'l', '--owner', 'me', '--request-timeout', '2s'],
    access: CLOSED_PORT,
    code: 8,
    error: /cannot reach the API server .*ECONNREFUSED.* get API discovery/,
    withinMs: 10_000,
  },
  {
    what: 'hung server (accepts, never answers): bounded by --request-timeout',
    args: ['lease', 'run', 'free-a', '--wait', '--request-timeout', '2s', '--', 'true'],
    access: HUNG_SERVER,
    code: 8,
    error: /cannot reach the API server at https:\/\/127.0.0.1:\d+ \(request timed out\) while trying to get leases.coordination.k8s.io free-a/,
    withinMs: 10_000,
  },
  {
    what: 'server certificate not trusted (no CA in the kubeconfig)',
    args: ['lease', 'status', 'held-a'],
    access: broken(() => writeKubeconfig({ cluster: { server: adminConfig().getCurrentCluster()!.server } })),
    code: 8,
    error: /cannot reach the API server at \S+: its TLS certificate was not accepted \((\w*CERT\w*|\w*SIGNATURE\w*)\)/,
    ...shared(),
  },
  {
    what: 'wrong token (401): lease acquire',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me'],
    access: BOGUS_TOKEN,
    code: 8,
    error: /rejected the credentials \(401 Unauthorized\) while trying to get leases.coordination.k8s.io free-a/,
    ...shared(),
  },
  {
    what: 'wrong token (401): lease run',
    args: ['lease', 'run', 'free-a', '--', 'true'],
    access: BOGUS_TOKEN,
    code: 8,
    error: /401 Unauthorized/,
    ...shared(),
  },
  {
    what: 'wrong token (401): semaphore unlock',
    args: ['semaphore', 'unlock', 'sem-a', '--holder', 'someone-else'],
    access: BOGUS_TOKEN,
    code: 8,
    error: /401 Unauthorized\) while trying to get configmaps sem-a/,
    ...shared(),
  },
  {
    what: 'wrong token (401): kubelock status',
    args: ['kubelock', 'status', 'cm/target-a'],
    access: BOGUS_TOKEN,
    code: 8,
    error: /401 Unauthorized\) while trying to get API discovery/,
    ...shared(),
  },
  {
    what: 'wrong token (401): crd install',
    args: ['crd', 'install'],
    access: BOGUS_TOKEN,
    code: 8,
    error: /401 Unauthorized\) while trying to get customresourcedefinitions.apiextensions.k8s.io leases.konductor.io/,
    refs: [KONDUCTOR_CRD],
  },
  {
    what: 'token with a line break (cannot be sent as a header)',
    args: ['lease', 'acquire', 'free-a', '--holder', 'me'],
    access: broken(() => writeKubeconfig({ user: { token: 'abc\ndef' } })),
    code: 8,
    error: /credentials in the kubeconfig cannot be sent/,
    ...shared(),
  },

  // RBAC: the documented Role minus exactly one verb
  {
    what: '403 get leases: lease acquire',
    args: ['lease', 'acquire', 'r-held', '--holder', 'me'],
    access: without('leases', 'get'),
    code: 7,
    error: /cannot get leases.coordination.k8s.io r-held in namespace \S+: forbidden .*; grant "get" on leases.coordination.k8s.io/,
    seeds: [lease('r-held')],
  },
  {
    what: '403 get leases: lease run',
    args: ['lease', 'run', 'r-run', '--', 'true'],
    access: without('leases', 'get'),
    code: 7,
    error: /cannot get leases.coordination.k8s.io r-run/,
    seeds: [lease('r-run', '')],
  },
  {
    what: '403 get leases: lease status',
    args: ['lease', 'status', 'r-held'],
    access: without('leases', 'get'),
    code: 7,
    error: /cannot get leases.coordination.k8s.io r-held/,
  },
  {
    what: '403 list leases: lease status',
    args: ['lease', 'status'],
    access: without('leases', 'list'),
    code: 7,
    error: /cannot list leases.coordination.k8s.io in namespace \S+: forbidden/,
  },
  {
    what: '403 list leases cluster-wide: lease status -A',
    args: ['lease', 'status', '-A'],
    access: DOCUMENTED,
    code: 7,
    error: /cannot list leases.coordination.k8s.io in all namespaces: forbidden/,
  },
  {
    what: '403 create leases: lease acquire of a new Lease',
    args: ['lease', 'acquire', 'r-new', '--holder', 'me'],
    access: without('leases', 'create'),
    code: 7,
    error: /cannot create leases.coordination.k8s.io r-new/,
    seeds: [absent('Lease', 'r-new')],
  },
  {
    what: '403 patch leases: lease acquire of a free Lease',
    args: ['lease', 'acquire', 'r-free', '--holder', 'me'],
    access: without('leases', 'patch'),
    code: 7,
    error: /cannot patch leases.coordination.k8s.io r-free/,
    seeds: [lease('r-free', '')],
  },
  {
    what: '403 patch leases: lease renew',
    args: ['lease', 'renew', 'r-mine', '--holder', 'me'],
    access: without('leases', 'patch'),
    code: 7,
    error: /cannot patch leases.coordination.k8s.io r-mine/,
    seeds: [lease('r-mine', 'me')],
  },
  {
    what: '403 patch leases: lease release',
    args: ['lease', 'release', 'r-mine-2', '--holder', 'me'],
    access: without('leases', 'patch'),
    code: 7,
    error: /cannot patch leases.coordination.k8s.io r-mine-2/,
    seeds: [lease('r-mine-2', 'me')],
  },
  {
    what: '403 delete leases: lease release --delete',
    args: ['lease', 'release', 'r-del', '--holder', 'me', '--delete'],
    access: without('leases', 'delete'),
    code: 7,
    error: /cannot delete leases.coordination.k8s.io r-del/,
    seeds: [lease('r-del', 'me')],
  },
  {
    what: '403 get configmaps: semaphore lock',
    args: ['semaphore', 'lock', 'r-sem', '--holder', 'me'],
    access: without('configmaps', 'get'),
    code: 7,
    error: /cannot get configmaps r-sem in namespace/,
    seeds: [configMap('r-sem', { 'kube-lock': kubeLock(2) })],
  },
  {
    what: '403 get configmaps (kubelock target): kubelock status',
    args: ['kubelock', 'status', 'cm/r-sem'],
    access: without('configmaps', 'get'),
    code: 7,
    error: /cannot get configmaps r-sem/,
  },
  {
    what: '403 list configmaps: semaphore status',
    args: ['semaphore', 'status'],
    access: without('configmaps', 'list'),
    code: 7,
    error: /cannot list configmaps in namespace/,
  },
  {
    what: '403 create configmaps: semaphore lock --create',
    args: ['semaphore', 'lock', 'r-new-sem', '--holder', 'me', '--create'],
    access: without('configmaps', 'create'),
    code: 7,
    error: /cannot create configmaps r-new-sem/,
    seeds: [absent('ConfigMap', 'r-new-sem')],
  },
  {
    what: '403 patch configmaps: semaphore lock',
    args: ['semaphore', 'lock', 'r-sem-free', '--holder', 'me'],
    access: without('configmaps', 'patch'),
    code: 7,
    error: /cannot patch configmaps r-sem-free/,
    seeds: [configMap('r-sem-free', { 'kube-lock': kubeLock(2, 'other') })],
  },
  {
    what: '403 patch configmaps: semaphore unlock',
    args: ['semaphore', 'unlock', 'r-sem-mine', '--holder', 'me'],
    access: without('configmaps', 'patch'),
    code: 7,
    error: /cannot patch configmaps r-sem-mine/,
    seeds: [configMap('r-sem-mine', { 'kube-lock': kubeLock(1, 'me') })],
  },
  {
    what: '403 patch configmaps (kubelock target): kubelock annotate --release',
    args: ['kubelock', 'annotate', 'cm/r-lock-mine', '--lock', 'x', '--owner', 'me', '--release'],
    access: without('configmaps', 'patch'),
    code: 7,
    error: /cannot patch configmaps r-lock-mine/,
    seeds: [configMap('r-lock-mine', { 'kubelock.giantswarm.io/x': giantswarmLock('me') })],
  },
  {
    what: '403 watch configmaps: semaphore lock --wait polls, says so, times out',
    args: ['semaphore', 'lock', 'r-sem-full', '--holder', 'me', '--wait', '--timeout', '2s'],
    access: without('configmaps', 'watch'),
    code: 3,
    error: /semaphore r-sem-full is full: 1\/1 held by other \(waited 2s\)/,
    warning: /watch on r-sem-full is forbidden .*; polling instead, with backoff/,
    seeds: [configMap('r-sem-full', { 'kube-lock': kubeLock(1, 'other') })],
  },
  {
    what: '403 watch configmaps (kubelock target): kubelock annotate --wait polls, says so, times out',
    args: ['kubelock', 'annotate', 'cm/r-lock-held', '--lock', 'x', '--owner', 'me', '--wait', '--timeout', '2s'],
    access: without('configmaps', 'watch'),
    code: 3,
    error: /lock x on configmaps\/r-lock-held .* is held by "other"/,
    warning: /watch on r-lock-held is forbidden/,
    seeds: [configMap('r-lock-held', { 'kubelock.giantswarm.io/x': giantswarmLock('other') })],
  },
  {
    what: '403 on a kubelock target type outside the Role (deployments)',
    args: ['kubelock', 'annotate', 'deploy/r-web', '--lock', 'x', '--owner', 'me'],
    access: DOCUMENTED,
    code: 7,
    error: /cannot get deployments.apps r-web in namespace \S+: forbidden/,
    seeds: [deployment('r-web')],
  },
  {
    what: '403 crd install without cluster-admin',
    args: ['crd', 'install'],
    access: DOCUMENTED,
    code: 7,
    error: /cannot get customresourcedefinitions.apiextensions.k8s.io leases.konductor.io: forbidden/,
    refs: [KONDUCTOR_CRD],
  },
];

const argvOf = (c: Case, kubeconfig: string | undefined, namespace: string, json: boolean) =>
  withFlags(c.args, [...(kubeconfig ? ['--kubeconfig', kubeconfig] : []), '-n', namespace, ...(json ? ['--json'] : [])]);

let sharedSeeds: Promise<void> | undefined;

describe('bad input: documented exit code, one error line (one JSON document with --json), cluster unchanged', () => {
  test('the catalogue covers every command and at least 40 cases; seeded names are unique per namespace', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    const commands = new Set(CASES.map((c) => c.args.slice(0, 2).join(' ')));
    for (const command of [
      'lease acquire',
      'lease renew',
      'lease release',
      'lease status',
      'lease run',
      'semaphore lock',
      'semaphore unlock',
      'semaphore status',
      'kubelock annotate',
      'kubelock status',
      'crd install',
    ]) {
      expect(commands).toContain(command);
    }
    const seeded = CASES.flatMap((c) => (c.seeds ?? []).filter((s) => s.body).map((s) => `${JSON.stringify(c.access ?? ADMIN)} ${s.ref.kind}/${s.ref.name}`));
    expect(seeded.length).toBe(new Set(seeded).size);
  });

  test('docs/exit-codes.md lists every exit code as src/cli/exit-codes.ts defines it', () => {
    const doc = readFileSync(new URL('../../docs/exit-codes.md', import.meta.url), 'utf8');
    for (const { code, name, meaning } of EXIT_CODE_TABLE) expect(doc).toContain(`| ${code} | \`${name}\` | ${meaning} |`);
  });

  test.concurrent.each(CASES)('$what → exit $code', async (c) => {
    const access = c.access ?? ADMIN;
    const namespace = await namespaceOf('kubeconfig' in access ? ADMIN : access);
    const seedNamespace = 'kubeconfig' in access ? await namespaceOf(ADMIN) : namespace;
    if (!('restricted' in access)) await (sharedSeeds ??= namespaceOf(ADMIN).then((ns) => createSeeds(SHARED, ns)));
    const ownSeeds = (c.seeds ?? []).filter((s) => !SHARED.includes(s));
    await createSeeds(ownSeeds, seedNamespace);
    const refs = [...(c.seeds ?? []).map((s) => s.ref), ...(c.refs ?? [])];
    const before = await snapshot(refs, seedNamespace);

    const kubeconfig = c.env ? undefined : await kubeconfigOf(access);
    for (const json of [false, true]) {
      const result: CliResult = await runKoncli(argvOf(c, kubeconfig, c.namespace ?? namespace, json), { env: c.env, timeoutMs: 60_000 });
      expectFailure(result, { code: c.code, error: c.error, warning: c.warning, json });
      if (c.withinMs) expect(result.ms).toBeLessThan(c.withinMs);
    }
    expect(await snapshot(refs, seedNamespace)).toEqual(before);
  });
});

// ---------------------------------------------------------------- documented non-failures

describe('RBAC that koncli documents as optional', () => {
  test('without `events create`, --force still releases, warns on one line that the Event could not be recorded, and records none', async () => {
    const access = without('events', 'create');
    const ns = await namespaceOf(access);
    await createSeeds(
      [
        lease('ev-lease'),
        configMap('ev-sem', { 'kube-lock': kubeLock(1, 'stuck') }),
        configMap('ev-lock', { 'kubelock.giantswarm.io/x': giantswarmLock('stuck') }),
      ],
      ns,
    );
    const as = (...args: string[]) => runKoncli(withFlags(args, ['--kubeconfig', restrictedKubeconfigPath(), '-n', ns]));
    const forced = [
      await as('lease', 'release', 'ev-lease', '--holder', 'oncall', '--force'),
      await as('semaphore', 'unlock', 'ev-sem', '--holder', 'oncall', '--force', '--if-holder', 'stuck'),
      await as('kubelock', 'annotate', 'cm/ev-lock', '--lock', 'x', '--owner', 'oncall', '--release', '--force'),
    ];
    for (const r of forced) {
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 0,
        stderr: expect.stringMatching(
          /^koncli: warning: could not record the force-(release|unlock) Event: cannot create events in namespace \S+: forbidden .*\n$/,
        ),
      });
    }
    const core = adminConfig().makeApiClient(CoreV1Api);
    expect((await adminConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'ev-lease', namespace: ns })).spec?.holderIdentity).toBeFalsy();
    expect((await core.readNamespacedConfigMap({ name: 'ev-sem', namespace: ns })).metadata?.annotations?.['kube-lock']).toBe('{"max":1,"holders":{}}');
    expect((await core.readNamespacedConfigMap({ name: 'ev-lock', namespace: ns })).metadata?.annotations?.['kubelock.giantswarm.io/x']).toBeUndefined();
    expect((await core.listNamespacedEvent({ namespace: ns })).items).toEqual([]);
  });

  test('koncli never uses `update`: every command works with a Role that lacks it', async () => {
    const ns = await restrictedNamespaceWith(
      'no-update',
      documentedRbac().role.rules!.map((r) => ({ ...r, verbs: r.verbs.filter((v) => v !== 'update') })),
      { verb: 'patch', group: 'coordination.k8s.io', resource: 'leases' },
    );
    await createSeeds([configMap('nu-target')], ns);
    const as = (...args: string[]) => runKoncli(withFlags(args, ['--kubeconfig', restrictedKubeconfigPath(), '-n', ns]));
    const steps = [
      ['lease', 'acquire', 'nu', '--holder', 'me'],
      ['lease', 'renew', 'nu', '--holder', 'me'],
      ['lease', 'release', 'nu', '--holder', 'me', '--delete'],
      ['lease', 'run', 'nu-run', '--', 'true'],
      ['semaphore', 'lock', 'nu-sem', '--holder', 'me', '--create'],
      ['semaphore', 'unlock', 'nu-sem', '--holder', 'me'],
      ['kubelock', 'annotate', 'cm/nu-target', '--lock', 'x', '--owner', 'me'],
      ['kubelock', 'annotate', 'cm/nu-target', '--lock', 'x', '--owner', 'me', '--release'],
    ];
    for (const step of steps) {
      const r = await as(...step);
      expect({ step: step.join(' '), code: r.code, stderr: r.stderr }).toEqual({ step: step.join(' '), code: 0, stderr: '' });
    }
  });
});

// ---------------------------------------------------------------- deleted while waiting

describe('the object is deleted while a command waits on it: a clear result, no hang, nothing recreated', () => {
  let ns: string;
  const koncli = (...args: string[]) =>
    collect(spawnKoncli(withFlags(args, ['--kubeconfig', adminKubeconfigPath(), '-n', ns])), Date.now(), { timeoutMs: 60_000 });
  const core = () => adminConfig().makeApiClient(CoreV1Api);
  const leases = () => adminConfig().makeApiClient(CoordinationV1Api);
  beforeAll(async () => {
    ns = await freshNamespace('rel-deleted');
    await createSeeds(
      [
        configMap('del-sem', { 'kube-lock': kubeLock(1, 'other') }),
        configMap('del-lock', { 'kubelock.giantswarm.io/x': giantswarmLock('other') }),
        lease('del-lease'),
      ],
      ns,
    );
  });

  /** Starts `args`, lets it settle into waiting (or until `ready`), deletes the object, and returns how the command ended. */
  async function deleteWhileWaiting(args: string[], remove: () => Promise<unknown>, ready: () => Promise<boolean> = async () => true): Promise<CliResult> {
    const waiting = koncli(...args);
    await sleep(2_000);
    for (let i = 0; !(await ready()); i++) {
      if (i > 100) throw new Error(`${args.join(' ')} never got ready`);
      await sleep(100);
    }
    await remove();
    return waiting;
  }

  test('semaphore lock --wait: the ConfigMap is deleted → exit 6 at once, naming it; not recreated', async () => {
    const r = await deleteWhileWaiting(['semaphore', 'lock', 'del-sem', '--holder', 'me', '--wait', '--timeout', '40s'], () =>
      core().deleteNamespacedConfigMap({ name: 'del-sem', namespace: ns }),
    );
    expectFailure(r, { code: 6, error: /semaphore del-sem \(a ConfigMap\) does not exist/, json: false });
    expect(r.ms).toBeLessThan(15_000);
    expect((await core().listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata?.name)).not.toContain('del-sem');
  });

  test('kubelock annotate --wait: the object is deleted → exit 6 at once, naming it; not recreated', async () => {
    const r = await deleteWhileWaiting(['kubelock', 'annotate', 'cm/del-lock', '--lock', 'x', '--owner', 'me', '--wait', '--timeout', '40s', '--json'], () =>
      core().deleteNamespacedConfigMap({ name: 'del-lock', namespace: ns }),
    );
    expectFailure(r, { code: 6, error: /configmaps\/del-lock in namespace \S+ not found/, json: true });
    expect(r.ms).toBeLessThan(15_000);
    expect((await core().listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata?.name)).not.toContain('del-lock');
  });

  test('lease acquire --wait: the Lease is deleted → not free: its last claim (1h) stays in force, exit 3 at --timeout, nothing recreated (docs/clock.md)', async () => {
    const r = await deleteWhileWaiting(['lease', 'acquire', 'del-lease', '--holder', 'me', '--wait', '--timeout', '8s', '--json'], () =>
      leases().deleteNamespacedLease({ name: 'del-lease', namespace: ns }),
    );
    expectFailure(r, { code: 3, error: /del-lease.*someone-else/, json: true });
    expect(r.ms).toBeLessThan(20_000);
    expect((await leases().listNamespacedLease({ namespace: ns })).items.map((l) => l.metadata?.name)).not.toContain('del-lease');
  });

  test('lease run: the Lease is deleted under the running command → the command is stopped, exit 4 (lost)', async () => {
    const held = async () => !!(await leases().listNamespacedLease({ namespace: ns })).items.find((l) => l.metadata?.name === 'del-run')?.spec?.holderIdentity;
    const r = await deleteWhileWaiting(
      ['lease', 'run', 'del-run', '--ttl', '6s', '--kill-after', '1s', '--', 'sleep', '60'],
      () => leases().deleteNamespacedLease({ name: 'del-run', namespace: ns }),
      held,
    );
    expect(r.code).toBe(4);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('koncli: error:'))).toEqual([
      expect.stringMatching(/^koncli: error: lease lost: .*del-run.*; stopping the command/),
    ]);
    expect(r.ms).toBeLessThan(20_000);
  });
});
