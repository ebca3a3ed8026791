import { CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { Candidate, CandidateStore } from '../core/lease/candidates.js';
import { ANNOTATIONS } from '../core/lease/annotations.js';
import { microTime, type LeaseRecord } from '../core/lease/model.js';
import { STALE_AFTER_MS } from '../core/timing.js';
import { FIELD_MANAGER, type KubeClient } from './client.js';
import { mergePatchOptions } from './patch.js';

/** Label on a candidate: the lease it waits for (its name, or a digest when the name is too long for a label value). */
export const CANDIDATE_FOR_LABEL = 'koncli.dev/candidate-for';
/** Label on a candidate: the kind of that lease (`Lease`, `Lease.konductor.io`): a native and a konductor lease of one name are two locks. */
export const CANDIDATE_KIND_LABEL = 'koncli.dev/candidate-kind';
/** Annotations on a candidate: the exact lease name (labels may hold a digest), and its arrival (the resourceVersion it was created at). */
export const CANDIDATE_LEASE_ANNOTATION = 'koncli.dev/candidate-for';
export const ARRIVAL_ANNOTATION = 'koncli.dev/arrival';

const MAX_LABEL_VALUE = 63;
const MAX_NAME = 253;
const digest = (text: string, chars: number) => createHash('sha256').update(text).digest('hex').slice(0, chars);

/** A lease name fits a label value when ≤ 63 characters (a DNS subdomain's characters are all allowed in one). */
const labelValueFor = (lease: string) => (lease.length <= MAX_LABEL_VALUE ? lease : `sha256.${digest(lease, 40)}`);

/**
 * The candidate's object name: `<lease>.waiter-<16 hex of sha256(kind, lease, waiter id)>`, the lease
 * part shortened to fit 253 characters. One name per waiter id: a waiter that starts again under the
 * same id adopts its candidate (and its place).
 */
export function candidateName(kind: string, lease: string, id: string): string {
  const suffix = `.waiter-${digest(`${kind}\n${lease}\n${id}`, 16)}`;
  return lease.slice(0, MAX_NAME - suffix.length).replace(/[.-]+$/, '') + suffix;
}

/**
 * Waiters' candidates (core/lease/candidates.ts) for the leases of kind `leaseKind` in one
 * namespace: native coordination.k8s.io/v1 Leases whatever the lease kind (the published Role
 * grants them; Kubernetes' own LeaseCandidate, coordination.k8s.io/v1beta1, is served only with the
 * CoordinatedLeaderElection feature gate). Every write is guarded by resourceVersion.
 */
export class KubeCandidateStore implements CandidateStore {
  private readonly api: CoordinationV1Api;

  constructor(
    private readonly client: KubeClient,
    readonly namespace: string,
    private readonly leaseKind: string,
    /** Reads a native Lease as a LeaseRecord (KubeLeaseStore.decode): a candidate's claim is judged like any lease's. */
    private readonly decodeLease: (lease: V1Lease) => LeaseRecord,
  ) {
    this.api = client.api(CoordinationV1Api);
  }

  private site(verb: string, name?: string) {
    return { verb, resource: 'leases.coordination.k8s.io', name, namespace: this.namespace };
  }

  /** The candidate in `lease`, or null when it is not a well-formed candidate for it (left out, never rewritten). */
  private decode(lease: string, obj: V1Lease): Candidate | null {
    const annotations = obj.metadata?.annotations ?? {};
    if (annotations[CANDIDATE_LEASE_ANNOTATION] !== lease) return null;
    let record: LeaseRecord;
    try {
      record = this.decodeLease(obj);
    } catch {
      return null; // a corrupt koncli.dev/priority: not a candidate koncli can rank
    }
    const { name, version } = record;
    if (record.holding.holder === '') return null;
    return { name, lease, id: record.holding.holder, priority: record.extras.priority, arrival: annotations[ARRIVAL_ANNOTATION] ?? version, version, record };
  }

  private decodeOrThrow(lease: string, obj: V1Lease): Candidate {
    const c = this.decode(lease, obj);
    if (!c) throw new Error(`candidate ${obj.metadata?.name} for lease ${lease} is not well-formed`);
    return c;
  }

  async list(lease: string): Promise<Candidate[]> {
    const labelSelector = `${CANDIDATE_FOR_LABEL}=${labelValueFor(lease)},${CANDIDATE_KIND_LABEL}=${this.leaseKind}`;
    const list = await this.client.call(this.site('list'), () => this.api.listNamespacedLease({ namespace: this.namespace, labelSelector }));
    return list.items.map((item) => this.decode(lease, item)).filter((c): c is Candidate => c !== null);
  }

  async get(lease: string, id: string): Promise<Candidate | null> {
    const name = candidateName(this.leaseKind, lease, id);
    try {
      return this.decode(lease, await this.client.call(this.site('get', name), () => this.api.readNamespacedLease({ name, namespace: this.namespace })));
    } catch (err) {
      if ((err as { kind?: string }).kind === 'not-found') return null;
      throw err;
    }
  }

  async create(lease: string, me: { id: string; priority: number }, wallNow: number): Promise<Candidate> {
    const name = candidateName(this.leaseKind, lease, me.id);
    const stamp = microTime(wallNow);
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        namespace: this.namespace,
        labels: { [CANDIDATE_FOR_LABEL]: labelValueFor(lease), [CANDIDATE_KIND_LABEL]: this.leaseKind, 'app.kubernetes.io/managed-by': 'koncli' },
        annotations: { [CANDIDATE_LEASE_ANNOTATION]: lease, [ANNOTATIONS.priority]: String(me.priority) },
      },
      spec: { holderIdentity: me.id, leaseDurationSeconds: STALE_AFTER_MS / 1000, acquireTime: stamp, renewTime: stamp } as Record<string, unknown>,
    };
    const created = await this.client.call(this.site('create', name), () =>
      this.api.createNamespacedLease({ namespace: this.namespace, body, fieldManager: FIELD_MANAGER }),
    );
    return this.decodeOrThrow(lease, created);
  }

  async renew(candidate: Candidate, priority: number, wallNow: number): Promise<Candidate> {
    const body = {
      metadata: { resourceVersion: candidate.version, annotations: { [ANNOTATIONS.priority]: String(priority), [ARRIVAL_ANNOTATION]: candidate.arrival } },
      spec: { renewTime: microTime(wallNow) },
    };
    const written = await this.client.call(this.site('patch', candidate.name), () =>
      this.api.patchNamespacedLease({ name: candidate.name, namespace: this.namespace, body, fieldManager: FIELD_MANAGER }, mergePatchOptions()),
    );
    return this.decodeOrThrow(candidate.lease, written);
  }

  async delete(candidate: Candidate): Promise<void> {
    await this.client.call(this.site('delete', candidate.name), () =>
      this.api.deleteNamespacedLease({ name: candidate.name, namespace: this.namespace, body: { preconditions: { resourceVersion: candidate.version } } }),
    );
  }
}
