import { CustomObjectsApi } from '@kubernetes/client-node';
import type { Claim, RecordObject } from '../core/claim/model.js';
import type { WatchHandlers } from '../core/store.js';
import { formatGoDuration } from '../core/duration.js';
import { isKind, KoncliError } from '../core/errors.js';
import type { PermitsState } from '../core/primitives/permits.js';
import { FIELD_MANAGER, type KubeClient } from './client.js';
import { resourceTypeMissing, stanza, text } from './konductor-lease.js';
import { listCustomObjects } from './konductor-lease-store.js';
import { KonductorRecordStore } from './konductor-primitive-store.js';
import type { KonductorShape } from './konductor-primitive.js';
import type { RecordListing } from './primitive-store.js';
import { foreignPermit, isForeignPermitOf, mirrorName, PERMIT_SEMAPHORE_LABEL, PERMIT_TYPE, SEMAPHORE_SHAPE } from './konductor-semaphore.js';
import { MANAGED_BY_LABEL } from './lease-store.js';
import { mergePatchOptions } from './patch.js';
import { watchCollection } from './watch-collection.js';

/**
 * konductor.io/v1 Semaphores as the claim engine's RecordStore (docs/formats.md, "konductor
 * Semaphore"): the record is the Semaphore's status.claims (kube/konductor-semaphore.ts), written
 * by resourceVersion-guarded status patches, plus the Permits other clients made (konductor's own
 * `semaphore acquire`), read by listing the namespace's Permits before each read of the Semaphore
 * and counted, never written. A watch on the Semaphore also follows its Permits (konductor's label):
 * a Permit made or deleted re-lists them and re-delivers the Semaphore last seen with them. Beside
 * the record, koncli keeps one Permit per holder as konductor's readable mirror (`mirror`,
 * `unmirror`): konductor's tools see it, koncli never counts it.
 */
export class KonductorSemaphoreStore extends KonductorRecordStore {
  private readonly customs: CustomObjectsApi;
  /** The namespace's Permits as last listed (raw objects). */
  private permits: unknown[] = [];
  /** Each semaphore as last read by `get` (a watch re-delivers it when only its Permits changed). */
  private readonly lastRead = new Map<string, RecordObject | null>();

  private readonly allNamespaces: boolean;

  /** `listing`: what `list` covers (-A: the Permits of every namespace are listed too; -l narrows the Semaphores). */
  constructor(client: KubeClient, namespace: string, listing: RecordListing = {}) {
    super(client, namespace, SEMAPHORE_SHAPE, listing);
    this.allNamespaces = listing.allNamespaces ?? false;
    this.customs = client.api(CustomObjectsApi);
    const decodeSemaphore = this.decode;
    this.decode = (obj: unknown) => this.withForeign(decodeSemaphore(obj));
  }

  private permitCall<T>(verb: string, name: string | undefined, fn: () => Promise<T>, subresource = '', allNamespaces = false): Promise<T> {
    const site = { verb, resource: PERMIT_TYPE.resource + subresource, name, namespace: this.namespace, allNamespaces };
    return this.client.call(site, () =>
      fn().catch((err) => {
        throw resourceTypeMissing(err, PERMIT_TYPE) ?? err;
      }),
    );
  }

  private permitRef(name: string) {
    const { group, version, plural } = PERMIT_TYPE;
    return { group, version, plural, namespace: this.namespace, name };
  }

  /** Lists the namespace's Permits (`all`: every namespace's) in one request, kept for the decodes that follow. */
  private async listPermits(all = false): Promise<void> {
    this.permits = await this.permitCall('list', undefined, () => listCustomObjects(this.customs, PERMIT_TYPE, all ? undefined : this.namespace), '', all);
  }

  /** The record with the foreign Permits of this semaphore added; a malformed one makes the object unreadable (corrupt, nothing written). */
  private withForeign(obj: RecordObject): RecordObject {
    if (obj.unreadable || obj.record === undefined) return obj;
    const state = JSON.parse(obj.record) as PermitsState;
    try {
      const mine = (p: unknown) => stanza(p, 'metadata').namespace === obj.namespace && isForeignPermitOf(p, obj.name);
      const foreign = this.permits.filter(mine).map((p) => foreignPermit(p, state.ttlSeconds));
      return { ...obj, record: JSON.stringify({ ...state, foreign }) };
    } catch (err) {
      if (!(err instanceof KoncliError)) throw err;
      return { ...obj, unreadable: err };
    }
  }

  override async get(name: string): Promise<RecordObject | null> {
    await this.listPermits();
    const obj = await super.get(name);
    this.lastRead.set(name, obj);
    return obj;
  }

  /**
   * The Semaphore's watch (only events naming it), plus its Permits followed: after any Permit event
   * the Permits are listed again and the Semaphore last seen is delivered again with them (a fresh
   * read of what the record counts, not a change of the Semaphore), so a waiter sees a Permit that
   * konductor's release deleted. Names longer than a label value (63) have no Permits to follow.
   */
  override async watch(name: string, fromVersion: string | undefined, handlers: WatchHandlers<RecordObject>): Promise<() => void> {
    let last = this.lastRead.get(name) ?? null;
    let stopped = false;
    const stopSemaphore = await super.watch(name, fromVersion, {
      ...handlers,
      onChange: (obj) => {
        last = obj;
        handlers.onChange(obj);
      },
    });
    let running = false;
    let again = false;
    const refresh = async () => {
      if (running) return void (again = true);
      running = true;
      do {
        again = false;
        await this.listPermits().catch(() => undefined); // the next read sees the error
        if (!stopped && last) handlers.onChange(this.withForeign(last));
      } while (again && !stopped);
      running = false;
    };
    const stopPermits = name.length <= 63 ? this.followPermits(name, () => void refresh()) : () => undefined;
    return () => {
      stopped = true;
      stopPermits();
      stopSemaphore();
    };
  }

  /** Watches the Permits labelled for `name`, except koncli's mirrors (never counted); re-opened 1 s after it ends; `onEvent` on each change. */
  private followPermits(name: string, onEvent: () => void): () => void {
    let stopped = false;
    let stop = () => undefined as void;
    const path = `/apis/${PERMIT_TYPE.group}/${PERMIT_TYPE.version}/namespaces/${this.namespace}/${PERMIT_TYPE.plural}`;
    const later = (ms: number) => setTimeout(() => void (stopped || open()), ms).unref();
    const ended = () => {
      if (stopped) return;
      onEvent(); // it may have missed one
      later(1000);
    };
    const open = (): Promise<void> =>
      watchCollection(this.client, path, `${PERMIT_SEMAPHORE_LABEL}=${name},${MANAGED_BY_LABEL}!=koncli`, onEvent, ended).then(
        (s) => (stopped ? s() : void (stop = s)),
        () => void (stopped || later(5000)),
      );
    void open();
    return () => {
      stopped = true;
      stop();
    };
  }

  override async list(): ReturnType<KonductorRecordStore['list']> {
    await this.listPermits(this.allNamespaces);
    return super.list();
  }

  /** Deletes a foreign Permit, guarded by the resourceVersion it was listed with; one already gone is fine. */
  async deletePermit(name: string): Promise<void> {
    const listed = this.permits.find((p) => stanza(p, 'metadata').name === name);
    const resourceVersion = text(stanza(listed, 'metadata').resourceVersion);
    await this.permitCall('delete', name, () =>
      this.customs.deleteNamespacedCustomObject({ ...this.permitRef(name), body: { preconditions: { resourceVersion } } }),
    ).catch((err: unknown) => {
      if (!isKind(err, 'not-found')) throw err;
    });
  }

  /**
   * Creates (or, when it is already koncli's, re-stamps) the Permit that mirrors `claim` on the
   * semaphore `obj`, status Granted with the claim's times. A Permit of that name made by someone
   * else is left alone. Returns a warning when the mirror could not be written.
   */
  async mirror(obj: RecordObject, claim: Claim): Promise<string | undefined> {
    const name = mirrorName(obj.name, claim.holder);
    try {
      const version = await this.createMirror(obj, claim, name);
      if (version === undefined) return `Permit ${name} exists and is not koncli's mirror; left alone`;
      const status = { phase: 'Granted', acquiredAt: claim.acquiredAt, expiresAt: claim.expiresAt ?? null };
      const body = { metadata: { resourceVersion: version }, status };
      const patch = () => this.customs.patchNamespacedCustomObjectStatus({ ...this.permitRef(name), body, fieldManager: FIELD_MANAGER }, mergePatchOptions());
      await this.permitCall('patch', name, patch, '/status');
      return undefined;
    } catch (err) {
      return `could not write Permit ${name}, the mirror konductor's tools read (the permit itself is recorded on the Semaphore): ${(err as Error).message}`;
    }
  }

  /** Creates the mirror Permit (its resourceVersion), or adopts koncli's own of that name; undefined when the name is someone else's. */
  private async createMirror(obj: RecordObject, claim: Claim, name: string): Promise<string | undefined> {
    const { apiVersion, kind, group, version, plural } = PERMIT_TYPE;
    const owner = { apiVersion: SEMAPHORE_SHAPE.type.apiVersion, kind: SEMAPHORE_SHAPE.type.kind, name: obj.name, uid: obj.uid };
    const metadata = {
      name,
      namespace: this.namespace,
      // konductor's label (a label value has at most 63 characters: a longer name goes without it).
      labels: { ...(obj.name.length <= 63 && { [PERMIT_SEMAPHORE_LABEL]: obj.name }), [MANAGED_BY_LABEL]: 'koncli' },
      ...(obj.uid && { ownerReferences: [owner] }),
    };
    const spec = { semaphore: obj.name, holder: claim.holder, ...(claim.ttlSeconds !== undefined && { ttl: formatGoDuration(claim.ttlSeconds) }) };
    try {
      const body = { apiVersion, kind, metadata, spec };
      const made: unknown = await this.permitCall('create', name, () =>
        this.customs.createNamespacedCustomObject({ group, version, plural, namespace: this.namespace, body, fieldManager: FIELD_MANAGER }),
      );
      return text(stanza(made, 'metadata').resourceVersion);
    } catch (err) {
      if (!isKind(err, 'conflict')) throw err;
    }
    const existing: unknown = await this.permitCall('get', name, () => this.customs.getNamespacedCustomObject(this.permitRef(name)));
    const labels = stanza(stanza(existing, 'metadata'), 'labels');
    if (labels[MANAGED_BY_LABEL] !== 'koncli' || stanza(existing, 'spec').holder !== claim.holder) return undefined;
    return text(stanza(existing, 'metadata').resourceVersion);
  }

  /** Deletes koncli's mirror Permits of `holders` on semaphore `name` (only koncli's own); returns a warning on failure. */
  async unmirror(name: string, holders: string[]): Promise<string | undefined> {
    const failed: string[] = [];
    for (const holder of holders) {
      const permit = mirrorName(name, holder);
      try {
        const existing: unknown = await this.permitCall('get', permit, () => this.customs.getNamespacedCustomObject(this.permitRef(permit)));
        const meta = stanza(existing, 'metadata');
        if (stanza(meta, 'labels')[MANAGED_BY_LABEL] !== 'koncli') continue;
        const resourceVersion = text(meta.resourceVersion);
        await this.permitCall('delete', permit, () =>
          this.customs.deleteNamespacedCustomObject({ ...this.permitRef(permit), body: { preconditions: { resourceVersion } } }),
        );
      } catch (err) {
        if (!isKind(err, 'not-found')) failed.push(`${permit}: ${(err as Error).message}`);
      }
    }
    return failed.length ? `could not delete the mirror Permit ${failed.join('; ')}` : undefined;
  }
}

/** The record store of a konductor shape: a Semaphore's also counts its Permits; every other kind's is the plain KonductorRecordStore. */
export const konductorRecordStoreOf = (client: KubeClient, namespace: string, shape: KonductorShape, listing: RecordListing = {}): KonductorRecordStore =>
  shape === SEMAPHORE_SHAPE ? new KonductorSemaphoreStore(client, namespace, listing) : new KonductorRecordStore(client, namespace, shape, listing);
