import { ConflictError, KoncliError } from '../../src/core/errors.js';
import type { LeaseDraft, LeaseRecord, LeaseStore } from '../../src/core/lease/model.js';
import type { WatchHandlers } from '../../src/core/store.js';
import { MemoryCandidateStore } from './memory-candidate-store.js';

/**
 * An in-memory LeaseStore for unit tests of the core algorithms: versions like etcd revisions,
 * conflicts on stale writes, watches, and a hook to inject a conflicting write before the next one.
 */
export class MemoryLeaseStore implements LeaseStore {
  readonly kind = 'Memory';
  private revision = 0;
  private readonly objects = new Map<string, LeaseRecord>();
  private readonly watchers = new Map<string, Set<WatchHandlers<LeaseRecord>>>();
  readonly events: { name: string; reason: string; message: string }[] = [];
  readonly writes: { name: string; purpose: 'holder' | 'create' | 'delete' }[] = [];
  /** Reads (get) so far. */
  reads = 0;
  /** Watches opened so far, and those still open. */
  watchesOpened = 0;
  get watchesOpen(): number {
    return [...this.watchers.values()].reduce((n, set) => n + set.size, 0);
  }
  /** Runs once before the next write, e.g. to simulate another writer winning a race. */
  beforeNextWrite: (() => void) | undefined;
  serverWrittenAtMost: number | undefined;
  readonly candidates: MemoryCandidateStore;

  constructor(readonly namespace = 'test') {
    this.candidates = new MemoryCandidateStore(namespace);
  }

  private bump(record: LeaseRecord): LeaseRecord {
    const stored = { ...structuredClone({ ...record, raw: undefined }), version: String(++this.revision), serverWrittenAtMost: this.serverWrittenAtMost };
    this.objects.set(record.name, stored);
    for (const w of this.watchers.get(record.name) ?? []) w.onChange(structuredClone(stored));
    return structuredClone(stored);
  }

  private intercept(): void {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    hook?.();
  }

  /** Deletes behind everyone's back (another tool, kubectl delete): watchers see it go. */
  remove(name: string): void {
    this.objects.delete(name);
    for (const w of this.watchers.get(name) ?? []) w.onChange(null);
  }

  /** Writes behind everyone's back (another tool), bumping the version. */
  put(record: Omit<LeaseRecord, 'version'>): LeaseRecord {
    return this.bump({ ...record, version: '' });
  }

  async get(name: string): Promise<LeaseRecord | null> {
    this.reads++;
    const found = this.objects.get(name);
    return found ? structuredClone(found) : null;
  }

  async list(): Promise<LeaseRecord[]> {
    return [...this.objects.values()].map((r) => structuredClone(r));
  }

  async create(draft: LeaseDraft): Promise<LeaseRecord> {
    this.intercept();
    if (this.objects.has(draft.name)) throw new ConflictError(`lease ${draft.name} already exists`);
    this.writes.push({ name: draft.name, purpose: 'create' });
    return this.bump({ ...draft, version: '' });
  }

  async writeClaim(record: LeaseRecord): Promise<LeaseRecord> {
    this.check(record, 'holder');
    return this.bump(record);
  }

  /** A write guarded by `record.version`: the stored object, or not-found / ConflictError. */
  private check(record: LeaseRecord, purpose: 'holder'): LeaseRecord {
    this.intercept();
    const current = this.objects.get(record.name);
    if (!current) throw new KoncliError('not-found', `lease ${record.name} not found`);
    if (current.version !== record.version) throw new ConflictError();
    this.writes.push({ name: record.name, purpose });
    return current;
  }

  async delete(name: string, version: string): Promise<void> {
    this.intercept();
    const current = this.objects.get(name);
    if (!current) throw new KoncliError('not-found', `lease ${name} not found`);
    if (current.version !== version) throw new ConflictError();
    this.writes.push({ name, purpose: 'delete' });
    this.objects.delete(name);
    for (const w of this.watchers.get(name) ?? []) w.onChange(null);
  }

  async watch(name: string, _from: string | undefined, handlers: WatchHandlers<LeaseRecord>): Promise<() => void> {
    const set = this.watchers.get(name) ?? new Set();
    this.watchesOpened++;
    set.add(handlers);
    this.watchers.set(name, set);
    return () => set.delete(handlers);
  }

  async recordEvent(record: LeaseRecord, reason: string, message: string): Promise<void> {
    this.events.push({ name: record.name, reason, message });
  }
}
