// Watches one lease from the bench and records, from the API server's point of view, each
// handover: the arrival of the event that freed the lease and of the next one that has a holder.
import { candidatesQuery, holderOf, queuedOn } from './kube.mjs';
import { sleep } from './proc.mjs';

export class LeaseObserver {
  latest = null;
  handovers = [];
  /** Writes that kept the holder and moved renewTime (renewals, as the server stored them). */
  renewals = 0;
  /** Events of the lease itself (each one wakes every waiter, which all watch it). */
  leaseEvents = 0;
  /** Events received by both of the observer's watches (to tell them from the waiters' in server counts). */
  events = 0;
  /** Live candidates of waiters (koncli with per-waiter candidates), by object name. */
  #candidates = new Set();
  #releasedAt = null;
  #queuedAtRelease = 0;
  #stop = () => {};

  constructor(kube, namespace, name) {
    this.kube = kube;
    this.namespace = namespace;
    this.name = name;
  }

  async start() {
    const stopLease = await this.kube.watchLease(this.namespace, this.name, ({ type, lease, at }) => {
      this.events++;
      this.leaseEvents++;
      this.#seen(type === 'DELETED' ? null : lease, at);
    });
    const stopCandidates = await this.kube.watchLeases(this.namespace, candidatesQuery(this.name), ({ type, lease }) => {
      this.events++;
      if (type === 'DELETED') this.#candidates.delete(lease.metadata.name);
      else if (type === 'ADDED' || type === 'MODIFIED') this.#candidates.add(lease.metadata.name);
    });
    this.#stop = () => {
      stopLease();
      stopCandidates();
    };
    return this;
  }

  stop() {
    this.#stop();
  }

  #seen(lease, at) {
    const before = holderOf(this.latest);
    const holder = holderOf(lease);
    const renewed = before && holder === before && lease?.spec?.renewTime !== this.latest?.spec?.renewTime;
    this.latest = lease;
    if (renewed) this.renewals++;
    if (before && !holder) {
      this.#releasedAt = at;
      this.#queuedAtRelease = this.queued;
    } else if (holder && this.#releasedAt !== null) {
      this.handovers.push({ ms: at - this.#releasedAt, waiting: this.#queuedAtRelease, to: holder });
      this.#releasedAt = null;
    }
  }

  get holder() {
    return holderOf(this.latest);
  }

  /** Waiters registered: candidates plus entries of the legacy annotation (older koncli). */
  get queued() {
    return queuedOn(this.latest) + this.#candidates.size;
  }

  /** Waits until `predicate(observer)` holds; throws after `timeoutMs`, or when `guard()` throws. */
  async until(predicate, timeoutMs, what, guard = () => {}) {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      guard();
      if (Date.now() > deadline)
        throw new Error(`lease ${this.name}: timed out after ${timeoutMs} ms waiting for ${what} (holder "${this.holder}", ${this.queued} queued)`);
      await sleep(5);
    }
  }
}
