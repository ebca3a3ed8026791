import type { LeaseContext } from '../core/lease/context.js';
import type { LeaseStore } from '../core/lease/model.js';
import type { KubeClient } from '../kube/client.js';
import { KoncliCommand } from './base-command.js';
import { openLeases, type LeaseKind } from './lease-session.js';

/** Base of the `lease` commands: the client and the lease store of the --kind chosen. */
export abstract class LeaseCommand extends KoncliCommand {
  protected async openLeases(kind: LeaseKind): Promise<{ client: KubeClient; ctx: LeaseContext & { store: LeaseStore } }> {
    const client = await this.kube();
    return { client, ctx: await openLeases(client, kind) };
  }
}
