import { ConflictError, KoncliError } from '../../src/core/errors.js';
import type { RecordObject, RecordStore } from '../../src/core/claim/model.js';
import type { WatchHandlers } from '../../src/core/store.js';

/**
 * An in-memory RecordStore (one kind's labelled ConfigMaps) for unit tests: versions like etcd
 * revisions, conflicts on stale writes and deletes, watches, every record written kept in order.
 */
export class MemoryRecordStore implements RecordStore {
  private revision = 0;
  private readonly objects = new Map<string, RecordObject>();
  private readonly watchers = new Map<string, Set<WatchHandlers<RecordObject>>>();
  readonly events: { name: string; reason: string; message: string }[] = [];
  readonly history: string[] = [];
  conflicts = 0;
  /** Runs once before the next write, e.g. to let another writer win a race. */
  beforeNextWrite: (() => void) | undefined;

  constructor(
    readonly kind: string,
    readonly namespace = 'test',
  ) {}

  private notify(name: string, obj: RecordObject | null): void {
    for (const w of this.watchers.get(name) ?? []) w.onChange(obj && { ...obj });
  }

  /** Stores `record` behind everyone's back (another process, a user's kubectl), labelled as `labelledKind`. */
  put(name: string, record: string | undefined, labelledKind: string | undefined = this.kind): RecordObject {
    const obj: RecordObject = { name, namespace: this.namespace, record, labelledKind, version: String(++this.revision), uid: `uid-${name}` };
    this.objects.set(name, obj);
    if (record !== undefined) this.history.push(record);
    this.notify(name, obj);
    return { ...obj };
  }

  private intercept(): void {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    hook?.();
  }

  async get(name: string): Promise<RecordObject | null> {
    const found = this.objects.get(name);
    return found ? { ...found } : null;
  }

  async list(): Promise<RecordObject[]> {
    return [...this.objects.values()].filter((o) => o.labelledKind === this.kind).map((o) => ({ ...o }));
  }

  async create(name: string, record: string): Promise<RecordObject> {
    this.intercept();
    if (this.objects.has(name)) {
      this.conflicts++;
      throw new ConflictError(`configmaps "${name}" already exists`);
    }
    return this.put(name, record);
  }

  private current(obj: RecordObject): RecordObject {
    const current = this.objects.get(obj.name);
    if (!current) throw new KoncliError('not-found', `configmap ${obj.name} not found`);
    if (current.version !== obj.version) {
      this.conflicts++;
      throw new ConflictError();
    }
    return current;
  }

  async write(obj: RecordObject, record: string): Promise<RecordObject> {
    this.intercept();
    const current = this.current(obj);
    return this.put(obj.name, record, current.labelledKind);
  }

  async delete(obj: RecordObject): Promise<void> {
    this.intercept();
    this.current(obj);
    this.objects.delete(obj.name);
    this.notify(obj.name, null);
  }

  async watch(name: string, _from: string | undefined, handlers: WatchHandlers<RecordObject>): Promise<() => void> {
    const set = this.watchers.get(name) ?? new Set();
    set.add(handlers);
    this.watchers.set(name, set);
    return () => set.delete(handlers);
  }

  async recordEvent(obj: RecordObject, reason: string, message: string): Promise<void> {
    this.events.push({ name: obj.name, reason, message });
  }
}
