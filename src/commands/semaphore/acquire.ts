import { Flags } from '@oclif/core';
import { EXIT_CODES_SECTION } from '../../cli/base-command.js';
import type { SemaphoreContext } from '../../core/semaphore/model.js';
import SemaphoreLock from './lock.js';

/** konductor's `semaphore acquire --ttl` default (its cli/semaphore.go; its docs page says 5m). */
export const ACQUIRE_DEFAULT_TTL_SECONDS = 600;

export default class SemaphoreAcquire extends SemaphoreLock {
  static override summary = "Take a permit of a semaphore: konductor's `semaphore acquire` (= `semaphore lock` with its defaults)";
  static override description = `konductor's verb for \`semaphore lock\` on kube-lock semaphores: the semaphore must exist (\`semaphore create NAME --permits N\`; exit 6 otherwise, unless --create), and the permit lapses after --ttl (default: the semaphore's own --ttl from create, else konductor's 10m) unless acquired again. Without --wait or --timeout, tries once and exits 3 when every permit is taken; with them, watches the semaphore and takes a permit as soon as one frees. Release it with \`semaphore release\`.${EXIT_CODES_SECTION}`;
  static override examples = [
    '<%= config.bin %> semaphore acquire api-limit',
    '<%= config.bin %> semaphore acquire api-limit --holder my-app --ttl 10m',
    '<%= config.bin %> semaphore acquire api-limit --wait --timeout 1m',
  ];
  static override args = SemaphoreLock.args;
  static override flags = {
    ...SemaphoreLock.flags,
    ttl: Flags.string({ description: "the permit lapses this long after it was acquired [default: the semaphore's --ttl, else 10m]" }),
    'wait-duration': Flags.string({
      description: "accepted for konductor's scripts; koncli has no controller to wait for (the permit is decided when acquire returns)",
    }),
  };

  protected override async slotTtl(ctx: SemaphoreContext, name: string, flagTtl: number | undefined): Promise<number | undefined> {
    if (flagTtl !== undefined) return flagTtl;
    const [{ defaultSlotTtl }, { decodeSemaphore }] = await Promise.all([import('../../core/semaphore/create.js'), import('../../core/semaphore/codec.js')]);
    const obj = await this.oneShot(ctx.clock, () => ctx.store.get(name));
    const stored = obj?.annotation === undefined ? undefined : defaultSlotTtl(decodeSemaphore(name, obj.annotation));
    return stored ?? ACQUIRE_DEFAULT_TTL_SECONDS;
  }
}
