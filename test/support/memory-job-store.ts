import type { JobObject } from '../../src/core/primitives/gate-judge.js';
import type { Watchable, WatchHandlers } from '../../src/core/store.js';

/** batch/v1 Jobs in memory for unit tests of gates: `put` stands in for the Job controller's status writes. */
export class MemoryJobStore implements Watchable<JobObject> {
  private revision = 0;
  private readonly jobs = new Map<string, JobObject>();
  private readonly watchers = new Map<string, Set<WatchHandlers<JobObject>>>();

  constructor(readonly namespace = 'test') {}

  put(name: string, status: Partial<Pick<JobObject, 'succeeded' | 'complete' | 'failed'>> = {}): JobObject {
    const job: JobObject = { name, namespace: this.namespace, version: String(++this.revision), succeeded: 0, complete: false, failed: false, ...status };
    this.jobs.set(name, job);
    for (const w of this.watchers.get(name) ?? []) w.onChange({ ...job });
    return job;
  }

  async get(name: string): Promise<JobObject | null> {
    const job = this.jobs.get(name);
    return job ? { ...job } : null;
  }

  async watch(name: string, _fromVersion: string | undefined, handlers: WatchHandlers<JobObject>): Promise<() => void> {
    const set = this.watchers.get(name) ?? new Set();
    set.add(handlers);
    this.watchers.set(name, set);
    return () => set.delete(handlers);
  }
}
