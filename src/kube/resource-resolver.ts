import { KoncliError } from '../core/errors.js';

/** One top-level resource of one group version, as API discovery lists it. */
export interface DiscoveredResource {
  name: string;
  singularName?: string;
  kind: string;
  shortNames?: string[];
  namespaced: boolean;
  /** The verbs the resource supports (get, list, watch, patch…). */
  verbs?: string[];
}

export interface GroupVersion {
  /** '' for the core group. */
  group: string;
  version: string;
}

/** The API discovery calls the resolver needs (client-node implements it in object-api.ts). */
export interface Discovery {
  /** Every served group version in kubectl's priority order: core first, then the server's group order, preferred version first. */
  groupVersions(group?: string): Promise<GroupVersion[]>;
  /** Top-level resources of one group version (no subresources). */
  resources(gv: GroupVersion): Promise<DiscoveredResource[]>;
}

export interface ResolvedResource extends GroupVersion {
  apiVersion: string;
  /** Plural resource name, as in URLs and RBAC rules. */
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface CatalogEntry {
  gv: GroupVersion;
  resources: DiscoveredResource[];
}

/** "configmaps", "deployments.apps": the form RBAC rules and kubectl messages use. */
export const resourceDisplayName = (r: Pick<ResolvedResource, 'plural' | 'group'>) => (r.group ? `${r.plural}.${r.group}` : r.plural);

/** The ways kubectl reads TYPE: `resource`, `resource.group`, `resource.version.group`. */
function candidatesOf(type: string): { name: string; group?: string; version?: string }[] {
  const lower = type.toLowerCase();
  const parts = lower.split('.');
  const out: { name: string; group?: string; version?: string }[] = [];
  if (parts.length >= 3) out.push({ name: parts[0], version: parts[1], group: parts.slice(2).join('.') });
  if (parts.length >= 2) out.push({ name: parts[0], group: parts.slice(1).join('.') });
  out.push({ name: lower });
  return out;
}

/** How well a resource matches a name: 1 plural or singular, 2 short name, 3 kind; 0 not at all. */
function matchTier(r: DiscoveredResource, name: string): number {
  const singular = (r.singularName || r.kind).toLowerCase();
  if (r.name.toLowerCase() === name || singular === name) return 1;
  if ((r.shortNames ?? []).some((s) => s.toLowerCase() === name)) return 2;
  if (r.kind.toLowerCase() === name) return 3;
  return 0;
}

/**
 * Resolves TYPE against a discovery catalog (in priority order) as kubectl does: plural, singular,
 * short name or kind, case-insensitive, optionally qualified by group or version.group. The best
 * tier wins; within a tier, the first in priority order. Pure.
 */
export function matchResource(type: string, catalog: CatalogEntry[]): ResolvedResource | undefined {
  for (const c of candidatesOf(type)) {
    let best: { tier: number; gv: GroupVersion; r: DiscoveredResource } | undefined;
    for (const { gv, resources } of catalog) {
      if (c.group !== undefined && gv.group !== c.group) continue;
      if (c.version !== undefined && gv.version !== c.version) continue;
      for (const r of resources) {
        const tier = matchTier(r, c.name);
        if (tier > 0 && (!best || tier < best.tier)) best = { tier, gv, r };
      }
    }
    if (best) return resolvedOf(best.gv, best.r);
  }
  return undefined;
}

const resolvedOf = (gv: GroupVersion, r: DiscoveredResource): ResolvedResource => ({
  group: gv.group,
  version: gv.version,
  apiVersion: gv.group ? `${gv.group}/${gv.version}` : gv.version,
  plural: r.name,
  kind: r.kind,
  namespaced: r.namespaced,
});

/** The group a qualified TYPE could name ("deployments.apps" → "apps"), if any. */
const groupHint = (type: string) => (type.includes('.') ? type.toLowerCase().slice(type.indexOf('.') + 1) : undefined);

/** Resolves resource types through API discovery, fetching each group version at most once per run. */
export class ResourceResolver {
  private readonly lists = new Map<string, Promise<DiscoveredResource[] | Error>>();
  private readonly failed = new Set<string>();

  constructor(private readonly discovery: Discovery) {}

  async resolve(type: string): Promise<ResolvedResource> {
    // Most types are core ones (cm, ns, node…): try the core group before discovering every group.
    if (!type.includes('.')) {
      const core = matchResource(type, await this.catalog([{ group: '', version: 'v1' }]));
      if (core) return core;
    }
    const hint = groupHint(type);
    let gvs: GroupVersion[] = [];
    if (hint !== undefined) {
      // "resource.group" or "resource.version.group": only those groups need discovering.
      const groups = new Set([hint, hint.includes('.') ? hint.slice(hint.indexOf('.') + 1) : hint]);
      for (const g of groups) gvs.push(...(await this.discovery.groupVersions(g)));
    } else {
      gvs = await this.discovery.groupVersions();
    }
    const catalog = await this.catalog(gvs);
    const found = matchResource(type, catalog);
    if (found) return found;
    const failed = gvs.filter((gv) => this.failed.has(key(gv)));
    throw new KoncliError(
      'not-found',
      `the server doesn't have a resource type "${type}"; run "kubectl api-resources" to list the types it has` +
        (failed.length ? ` (discovery of ${failed.map(key).join(', ')} failed)` : ''),
      { type },
    );
  }

  /**
   * Every resource type the server can list, in the preferred version of each group (as
   * `kubectl api-resources --verbs=list`); groups whose discovery failed are named in `failed`.
   */
  async listable(): Promise<{ resources: ResolvedResource[]; failed: string[] }> {
    const gvs = await this.discovery.groupVersions();
    const preferred = gvs.filter((gv, i) => gvs.findIndex((o) => o.group === gv.group) === i);
    const catalog = await this.catalog(preferred);
    const resources = catalog.flatMap(({ gv, resources }) => resources.filter((r) => r.verbs?.includes('list')).map((r) => resolvedOf(gv, r)));
    return { resources, failed: preferred.filter((gv) => this.failed.has(key(gv))).map(key) };
  }

  private async catalog(gvs: GroupVersion[]): Promise<CatalogEntry[]> {
    const lists = await Promise.all(gvs.map((gv) => this.resources(gv)));
    return gvs.map((gv, i) => ({ gv, resources: lists[i] }));
  }

  private async resources(gv: GroupVersion): Promise<DiscoveredResource[]> {
    let list = this.lists.get(key(gv));
    if (!list) {
      // One unavailable group (an aggregated API that is down) must not hide the others, as in kubectl.
      list = this.discovery.resources(gv).catch((err: Error) => err);
      this.lists.set(key(gv), list);
    }
    const got = await list;
    if (got instanceof Error) {
      const kind = (got as { kind?: string }).kind;
      if (gv.group === '' || kind === 'forbidden' || kind === 'unreachable') throw got;
      this.failed.add(key(gv));
      return [];
    }
    return got;
  }
}

const key = (gv: GroupVersion) => (gv.group ? `${gv.group}/${gv.version}` : gv.version);
