import { ConflictError, KoncliError } from '../../src/core/errors.js';
import type { Candidate, CandidateStore } from '../../src/core/lease/candidates.js';
import { defaultExtras, microTime } from '../../src/core/lease/model.js';
import { STALE_AFTER_MS } from '../../src/core/timing.js';

/**
 * In-memory waiters' candidates for unit tests of the queue: versions like etcd revisions (arrival
 * is the version of the create), conflicts on stale writes, and counters of what was asked.
 */
export class MemoryCandidateStore implements CandidateStore {
  private revision = 0;
  private readonly objects = new Map<string, Candidate>();
  /** Requests so far, by method. */
  readonly calls = { list: 0, get: 0, create: 0, renew: 0, delete: 0 };

  constructor(readonly namespace = 'test') {}

  private key = (lease: string, id: string) => `${lease}/${id}`;

  private store(lease: string, id: string, priority: number, wallNow: number, arrival?: string): Candidate {
    const version = String(++this.revision);
    const record = {
      name: `${lease}.waiter-${id}`,
      namespace: this.namespace,
      version,
      holding: { holder: id, durationSeconds: STALE_AFTER_MS / 1000, renewTime: microTime(wallNow), transitions: 0 },
      extras: { ...defaultExtras(), priority },
      labels: {},
    };
    const c: Candidate = { name: record.name, lease, id, priority, arrival: arrival ?? version, version, record };
    this.objects.set(this.key(lease, id), c);
    return structuredClone(c);
  }

  /** Every candidate of `lease`, ids only (for assertions). */
  ids(lease: string): string[] {
    return [...this.objects.values()].filter((c) => c.lease === lease).map((c) => c.id);
  }

  async list(lease: string): Promise<Candidate[]> {
    this.calls.list++;
    return [...this.objects.values()].filter((c) => c.lease === lease).map((c) => structuredClone(c));
  }

  async get(lease: string, id: string): Promise<Candidate | null> {
    this.calls.get++;
    const found = this.objects.get(this.key(lease, id));
    return found ? structuredClone(found) : null;
  }

  async create(lease: string, me: { id: string; priority: number }, wallNow: number): Promise<Candidate> {
    this.calls.create++;
    if (this.objects.has(this.key(lease, me.id))) throw new ConflictError(`candidate ${me.id} already exists`);
    return this.store(lease, me.id, me.priority, wallNow);
  }

  async renew(candidate: Candidate, priority: number, wallNow: number): Promise<Candidate> {
    this.calls.renew++;
    this.check(candidate);
    return this.store(candidate.lease, candidate.id, priority, wallNow, candidate.arrival);
  }

  async delete(candidate: Candidate): Promise<void> {
    this.calls.delete++;
    this.check(candidate);
    this.objects.delete(this.key(candidate.lease, candidate.id));
  }

  private check(candidate: Candidate): void {
    const current = this.objects.get(this.key(candidate.lease, candidate.id));
    if (!current) throw new KoncliError('not-found', `candidate ${candidate.name} not found`);
    if (current.version !== candidate.version) throw new ConflictError();
  }
}
