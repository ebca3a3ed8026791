import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import SemaphoreUnlock from './unlock.js';

export default class SemaphoreRelease extends SemaphoreUnlock {
  static override summary = "Give back your permit of a semaphore: konductor's `semaphore release` (= `semaphore unlock`)";
  static override description = `konductor's verb for \`semaphore unlock\`: removes --holder's permit (default holder: KONCLI_HOLDER, else the host name, as konductor's HOSTNAME). Exit codes, --force, --if-holder and --dead as for unlock: a permit already gone is exit 0, outcome already-free (konductor fails with "no permit found for holder" there).${EXIT_CODES_SECTION}`;
  static override examples = ['<%= config.bin %> semaphore release api-limit', '<%= config.bin %> semaphore release api-limit --holder my-app'];
  static override args = SemaphoreUnlock.args;
  static override flags = SemaphoreUnlock.flags;
}
