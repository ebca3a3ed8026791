import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import { SemaphoreCommand } from '../../cli/semaphore-command.js';
import { semaphoreNameArg } from '../../cli/semaphore-flags.js';
import { openSemaphores } from '../../cli/semaphore-session.js';
import { validateObjectName } from '../../cli/validate.js';

export default class SemaphoreDelete extends SemaphoreCommand {
  static override summary = "Delete a semaphore koncli created (konductor's `semaphore delete`)";
  static override description = `Deletes the semaphore's ConfigMap, guarded by its resourceVersion. Refused while a permit is held (exit 3) unless --force. A ConfigMap koncli did not create (no app.kubernetes.io/managed-by=koncli label) is someone else's: refused (exit 9), the kubectl command that removes only the semaphore named. Exit 6 when there is no such semaphore.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> semaphore delete api-limit'];
  static override args = { name: semaphoreNameArg };
  static override flags = { force: Flags.boolean({ description: 'delete it even while permits are held' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SemaphoreDelete);
    const name = validateObjectName(args.name, 'semaphore');
    if (this.onKonductor) return this.konductorDelete(name, flags.force);
    const client = await this.kube();
    const ctx = await openSemaphores(client);
    const { deleteSemaphore } = await import('../../core/semaphore/create.js');
    await this.oneShot(ctx.clock, () => deleteSemaphore(ctx, { name, namespace: client.namespace, force: flags.force }));
    await this.output.result({ kind: 'semaphore', namespace: client.namespace, name, outcome: 'deleted' }, () => `deleted semaphore ${name}`);
  }
}
