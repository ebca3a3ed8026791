import { ConflictError, KoncliError } from '../../src/core/errors.js';
import type { ObjectIdentity } from '../../src/core/identity.js';
import type { AnnotatedObject, KubelockStore } from '../../src/core/kubelock/model.js';
import type { WatchHandlers } from '../../src/core/store.js';

/**
 * An in-memory KubelockStore for unit tests: versions like etcd revisions, conflicts on stale
 * writes, watches, per-key server write times (from `serverNow`, like managedFields), and a hook
 * to inject a conflicting write before the next one.
 */
export class MemoryKubelockStore implements KubelockStore {
  private revision = 0;
  private readonly objects = new Map<string, AnnotatedObject>();
  private readonly watchers = new Map<string, Set<WatchHandlers<AnnotatedObject>>>();
  readonly events: { name: string; reason: string; message: string }[] = [];
  readonly writes: { name: string; key: string; value: string | null; writer: string }[] = [];
  beforeNextWrite: (() => void) | undefined;
  /** The server's clock, for write times; undefined: the store does not know write times. */
  serverNow: (() => number) | undefined;

  describe(name: string): string {
    return `things/${name}`;
  }

  private store(obj: AnnotatedObject): AnnotatedObject {
    const stored = structuredClone({ ...obj, version: String(++this.revision) });
    this.objects.set(obj.name, stored);
    for (const w of this.watchers.get(obj.name) ?? []) w.onChange(structuredClone(stored));
    return structuredClone(stored);
  }

  /** Deletes the object behind everyone's back (watchers see it go). */
  remove(name: string): void {
    this.objects.delete(name);
    for (const w of this.watchers.get(name) ?? []) w.onChange(null);
  }

  /** Creates or overwrites an object behind everyone's back (another tool); `identity` sets uid or terminating. */
  put(name: string, annotations: Record<string, string> = {}, identity: ObjectIdentity = {}): AnnotatedObject {
    const writtenAtMost: Record<string, number> = {};
    const now = this.serverNow?.();
    if (now !== undefined) for (const k of Object.keys(annotations)) writtenAtMost[k] = Math.floor(now / 1000) * 1000 + 1000;
    return this.store({ name, version: '', annotations, writtenAtMost, ...identity });
  }

  async get(name: string): Promise<AnnotatedObject | null> {
    const found = this.objects.get(name);
    return found ? structuredClone(found) : null;
  }

  async setAnnotation(name: string, version: string, key: string, value: string | null, writer: string): Promise<AnnotatedObject> {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    hook?.();
    const current = this.objects.get(name);
    if (!current) throw new KoncliError('not-found', `${name} not found`);
    if (current.version !== version) throw new ConflictError();
    this.writes.push({ name, key, value, writer });
    const annotations = { ...current.annotations };
    const writtenAtMost = { ...current.writtenAtMost };
    delete writtenAtMost[key];
    if (value === null) delete annotations[key];
    else {
      annotations[key] = value;
      const now = this.serverNow?.();
      if (now !== undefined) writtenAtMost[key] = Math.floor(now / 1000) * 1000 + 1000;
    }
    return this.store({ ...current, annotations, writtenAtMost });
  }

  async watch(name: string, _from: string | undefined, handlers: WatchHandlers<AnnotatedObject>): Promise<() => void> {
    const set = this.watchers.get(name) ?? new Set();
    set.add(handlers);
    this.watchers.set(name, set);
    return () => set.delete(handlers);
  }

  async recordEvent(obj: AnnotatedObject, reason: string, message: string): Promise<void> {
    this.events.push({ name: obj.name, reason, message });
  }
}
