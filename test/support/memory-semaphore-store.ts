import { ConflictError, KoncliError } from '../../src/core/errors.js';
import type { ObjectIdentity } from '../../src/core/identity.js';
import type { SemaphoreObject, SemaphoreStore } from '../../src/core/semaphore/model.js';
import type { WatchHandlers } from '../../src/core/store.js';

/**
 * An in-memory SemaphoreStore for unit tests: versions like etcd revisions, conflicts on stale
 * writes, watches, every stored version kept, and a hook to let another writer win a race.
 */
export class MemorySemaphoreStore implements SemaphoreStore {
  private revision = 0;
  private readonly objects = new Map<string, SemaphoreObject>();
  private readonly watchers = new Map<string, Set<WatchHandlers<SemaphoreObject>>>();
  readonly events: { name: string; reason: string; message: string }[] = [];
  /** Every annotation value written, in order (creates included). */
  readonly history: string[] = [];
  conflicts = 0;
  /** Runs once before the next write, e.g. to simulate another writer winning a race. */
  beforeNextWrite: (() => void) | undefined;

  constructor(readonly namespace = 'test') {}

  private store(name: string, annotation: string | undefined, identity?: ObjectIdentity): SemaphoreObject {
    const current = this.objects.get(name);
    const { uid = current?.uid ?? `uid-${name}`, terminating = current?.terminating } = identity ?? {};
    const obj: SemaphoreObject = { name, namespace: this.namespace, annotation, version: String(++this.revision), uid, ...(terminating && { terminating }) };
    this.objects.set(name, obj);
    if (annotation !== undefined) this.history.push(annotation);
    for (const w of this.watchers.get(name) ?? []) w.onChange({ ...obj });
    return { ...obj };
  }

  private intercept(): void {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    hook?.();
  }

  /** Writes behind everyone's back (another tool, e.g. kube-lock), bumping the version; `identity` sets uid or terminating. */
  put(name: string, annotation: string | undefined, identity?: ObjectIdentity): SemaphoreObject {
    return this.store(name, annotation, identity);
  }

  /** Deletes the object behind everyone's back (watchers see it go). */
  remove(name: string): void {
    this.objects.delete(name);
    for (const w of this.watchers.get(name) ?? []) w.onChange(null);
  }

  async get(name: string): Promise<SemaphoreObject | null> {
    const found = this.objects.get(name);
    return found ? { ...found } : null;
  }

  async list(): Promise<SemaphoreObject[]> {
    return [...this.objects.values()].filter((o) => o.annotation !== undefined).map((o) => ({ ...o }));
  }

  async create(name: string, annotation: string): Promise<SemaphoreObject> {
    this.intercept();
    if (this.objects.has(name)) {
      this.conflicts++;
      throw new ConflictError(`configmaps "${name}" already exists`);
    }
    return this.store(name, annotation);
  }

  async write(obj: SemaphoreObject, annotation: string): Promise<SemaphoreObject> {
    this.intercept();
    const current = this.objects.get(obj.name);
    if (!current) throw new KoncliError('not-found', `configmap ${obj.name} not found`);
    if (current.version !== obj.version) {
      this.conflicts++;
      throw new ConflictError();
    }
    return this.store(obj.name, annotation);
  }

  async delete(obj: SemaphoreObject): Promise<void> {
    const current = this.objects.get(obj.name);
    if (!current) throw new KoncliError('not-found', `configmap ${obj.name} not found`);
    if (current.version !== obj.version) throw new ConflictError();
    this.remove(obj.name);
  }

  async watch(name: string, _from: string | undefined, handlers: WatchHandlers<SemaphoreObject>): Promise<() => void> {
    const set = this.watchers.get(name) ?? new Set();
    set.add(handlers);
    this.watchers.set(name, set);
    return () => set.delete(handlers);
  }

  async recordEvent(obj: SemaphoreObject, reason: string, message: string): Promise<void> {
    this.events.push({ name: obj.name, reason, message });
  }
}
