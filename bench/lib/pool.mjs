// A fixed number of contending processes: `fill()` starts fresh ones (new holder ids) until there
// are `size`. The caller refills after each measurement, so a newcomer never races the waiters
// already there (klock has no queue: a process started at the moment of release would win).
import { start } from './proc.mjs';

export class Pool {
  #live = new Map(); // id -> { proc, startedAt }
  #seq = 0;
  #stopping = false;
  failures = [];

  /** `argvFor(id)` builds a contender's command line; `size` processes are kept alive. */
  constructor(size, argvFor, env, prefix = 'w') {
    this.size = size;
    this.argvFor = argvFor;
    this.env = env;
    this.prefix = prefix;
  }

  fill() {
    while (!this.#stopping && this.#live.size < this.size) this.#spawn();
    return this;
  }

  #spawn() {
    const id = `${this.prefix}${this.#seq++}`;
    const proc = start(this.argvFor(id), { env: this.env, stdin: 'pipe' });
    proc.child.stdin.on('error', () => {}); // a contender that already exited
    this.#live.set(id, { proc, startedAt: Date.now() });
    proc.exited.then((code) => {
      this.#live.delete(id);
      if (code !== 0 && !this.#stopping) this.failures.push({ id, code, stderr: proc.stderr().slice(-500) });
    });
  }

  get live() {
    return this.#live.size;
  }

  /** Process ids of the live contenders. */
  pids() {
    return [...this.#live.values()].map((c) => c.proc.child.pid);
  }

  /** Throws when a contender has failed (exited non-zero). */
  assertHealthy() {
    if (this.failures.length) throw new Error(`a contender failed: ${JSON.stringify(this.failures[0])}`);
  }

  /** Contenders alive for at least `ms` (their start-up done), other than `except`. */
  settled(ms, except) {
    const now = Date.now();
    return [...this.#live].filter(([id, c]) => id !== except && now - c.startedAt >= ms).length;
  }

  /** Lets the holder `id` finish its critical section (its command ends on reading a line of stdin). */
  release(id) {
    const c = this.#live.get(id);
    if (!c) throw new Error(`no live contender ${id} to release`);
    c.proc.child.stdin.write('\n');
  }

  async stop(signal = 'SIGTERM') {
    this.#stopping = true;
    const all = [...this.#live.values()];
    for (const c of all) c.proc.child.kill(signal);
    const timer = setTimeout(() => all.forEach((c) => c.proc.child.kill('SIGKILL')), 10_000);
    await Promise.all(all.map((c) => c.proc.exited));
    clearTimeout(timer);
  }
}
