import {
  matchResource,
  resourceDisplayName,
  ResourceResolver,
  type CatalogEntry,
  type Discovery,
  type GroupVersion,
} from '../../../src/kube/resource-resolver.js';
import { KoncliError } from '../../../src/core/errors.js';

const r = (name: string, kind: string, namespaced: boolean, shortNames: string[] = [], singularName = kind.toLowerCase()) => ({
  name,
  kind,
  namespaced,
  shortNames,
  singularName,
});

/** Discovery as a 1.3x API server lists it, in priority order, plus a CRD. */
const CATALOG: CatalogEntry[] = [
  {
    gv: { group: '', version: 'v1' },
    resources: [
      r('configmaps', 'ConfigMap', true, ['cm']),
      r('events', 'Event', true, ['ev']),
      r('namespaces', 'Namespace', false, ['ns']),
      r('nodes', 'Node', false, ['no']),
      r('pods', 'Pod', true, ['po']),
      r('componentstatuses', 'ComponentStatus', false, ['cs'], ''),
    ],
  },
  { gv: { group: 'apps', version: 'v1' }, resources: [r('deployments', 'Deployment', true, ['deploy']), r('statefulsets', 'StatefulSet', true, ['sts'])] },
  { gv: { group: 'events.k8s.io', version: 'v1' }, resources: [r('events', 'Event', true, ['ev'])] },
  { gv: { group: 'autoscaling', version: 'v2' }, resources: [r('horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ['hpa'])] },
  { gv: { group: 'autoscaling', version: 'v1' }, resources: [r('horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ['hpa'])] },
  { gv: { group: 'stable.example.com', version: 'v1' }, resources: [r('crontabs', 'CronTab', true, ['ct'])] },
];

const resolved = (type: string) => {
  const m = matchResource(type, CATALOG);
  return m && `${resourceDisplayName(m)} ${m.apiVersion} ${m.kind} ${m.namespaced ? 'namespaced' : 'cluster'}`;
};

describe('resolving TYPE like kubectl', () => {
  test.each([
    ['cm', 'configmaps v1 ConfigMap namespaced'],
    ['configmap', 'configmaps v1 ConfigMap namespaced'],
    ['configmaps', 'configmaps v1 ConfigMap namespaced'],
    ['ConfigMap', 'configmaps v1 ConfigMap namespaced'],
    ['CONFIGMAPS', 'configmaps v1 ConfigMap namespaced'],
    ['deploy', 'deployments.apps apps/v1 Deployment namespaced'],
    ['deployment', 'deployments.apps apps/v1 Deployment namespaced'],
    ['Deployment', 'deployments.apps apps/v1 Deployment namespaced'],
    ['deployments.apps', 'deployments.apps apps/v1 Deployment namespaced'],
    ['deployment.apps', 'deployments.apps apps/v1 Deployment namespaced'],
    ['deployments.v1.apps', 'deployments.apps apps/v1 Deployment namespaced'],
    ['ns', 'namespaces v1 Namespace cluster'],
    ['namespace', 'namespaces v1 Namespace cluster'],
    ['Namespace', 'namespaces v1 Namespace cluster'],
    ['node', 'nodes v1 Node cluster'],
    ['no', 'nodes v1 Node cluster'],
    ['componentstatus', 'componentstatuses v1 ComponentStatus cluster'],
    ['ct', 'crontabs.stable.example.com stable.example.com/v1 CronTab namespaced'],
    ['crontab', 'crontabs.stable.example.com stable.example.com/v1 CronTab namespaced'],
    ['CronTab', 'crontabs.stable.example.com stable.example.com/v1 CronTab namespaced'],
    ['crontabs.stable.example.com', 'crontabs.stable.example.com stable.example.com/v1 CronTab namespaced'],
    ['crontabs.v1.stable.example.com', 'crontabs.stable.example.com stable.example.com/v1 CronTab namespaced'],
  ])('%s → %s', (type, expected) => {
    expect(resolved(type)).toBe(expected);
  });

  test('the core group wins a name served by several groups; a group qualifier picks another', () => {
    expect(resolved('events')).toBe('events v1 Event namespaced');
    expect(resolved('events.events.k8s.io')).toBe('events.events.k8s.io events.k8s.io/v1 Event namespaced');
  });

  test("a group's preferred version comes first; a version qualifier picks another", () => {
    expect(resolved('hpa')).toBe('horizontalpodautoscalers.autoscaling autoscaling/v2 HorizontalPodAutoscaler namespaced');
    expect(resolved('horizontalpodautoscalers.v1.autoscaling')).toBe('horizontalpodautoscalers.autoscaling autoscaling/v1 HorizontalPodAutoscaler namespaced');
  });

  test('unknown names and wrong groups do not match', () => {
    expect(resolved('widgets')).toBeUndefined();
    expect(resolved('deployments.batch')).toBeUndefined();
    expect(resolved('configmaps.apps')).toBeUndefined();
  });
});

class CannedDiscovery implements Discovery {
  readonly calls: string[] = [];
  broken = new Set<string>();

  async groupVersions(group?: string): Promise<GroupVersion[]> {
    this.calls.push(`groups ${group ?? '*'}`);
    return CATALOG.map((c) => c.gv).filter((gv) => group === undefined || gv.group === group);
  }

  async resources(gv: GroupVersion) {
    const key = gv.group ? `${gv.group}/${gv.version}` : gv.version;
    this.calls.push(key);
    if (this.broken.has(key)) throw new KoncliError('error', `${key} is unavailable (503)`);
    return CATALOG.find((c) => c.gv.group === gv.group && c.gv.version === gv.version)?.resources ?? [];
  }
}

describe('ResourceResolver', () => {
  test('core types cost one discovery request; each group version is fetched once per run', async () => {
    const d = new CannedDiscovery();
    const resolver = new ResourceResolver(d);
    expect((await resolver.resolve('cm')).plural).toBe('configmaps');
    expect(d.calls).toEqual(['v1']);
    expect((await resolver.resolve('deploy')).group).toBe('apps');
    expect((await resolver.resolve('ct')).group).toBe('stable.example.com');
    expect(d.calls.filter((c) => c === 'apps/v1')).toHaveLength(1);
    expect(d.calls.filter((c) => c === 'v1')).toHaveLength(1);
  });

  test('a qualified type only discovers its group', async () => {
    const d = new CannedDiscovery();
    expect((await new ResourceResolver(d).resolve('deployments.apps')).kind).toBe('Deployment');
    expect(d.calls).not.toContain('stable.example.com/v1');
  });

  test('an unknown type is not-found, naming it and suggesting kubectl api-resources', async () => {
    await expect(new ResourceResolver(new CannedDiscovery()).resolve('widgets')).rejects.toMatchObject({
      kind: 'not-found',
      message: expect.stringMatching(/resource type "widgets".*kubectl api-resources/),
    });
  });

  test('an unavailable group does not hide the others, and is named when nothing matched', async () => {
    const d = new CannedDiscovery();
    d.broken.add('events.k8s.io/v1');
    expect((await new ResourceResolver(d).resolve('ct')).kind).toBe('CronTab');
    await expect(new ResourceResolver(d).resolve('widgets')).rejects.toMatchObject({
      message: expect.stringContaining('discovery of events.k8s.io/v1 failed'),
    });
  });
});
