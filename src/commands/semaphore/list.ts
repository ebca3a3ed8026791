import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import SemaphoreStatusCommand from './status.js';

export default class SemaphoreList extends SemaphoreStatusCommand {
  static override aliases: string[] = [];
  static override summary = "List the semaphores of a namespace (konductor's `semaphore list`; = `semaphore status` without NAME)";
  static override description = `A table of every ConfigMap in the namespace (-A: in all namespaces) with a kube-lock annotation: max, permits in use, holders; corrupt ones are listed as such.${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> semaphore list', '<%= config.bin %> semaphore list -n production --json'];
  static override args = {} as typeof SemaphoreStatusCommand.args; // no NAME: status's listing
  static override flags = SemaphoreStatusCommand.flags;
}
