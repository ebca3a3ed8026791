import type { Output } from './output.js';
import { stderr } from './stderr.js';

/**
 * A live status line on stderr while koncli waits; nothing at all off a terminal or with --json, and
 * never anything on stdout (the result alone goes there), whatever stdout is.
 */
export interface Progress {
  update(title: string): void;
  finish(ok: boolean, title?: string): Promise<void>;
}

const silent: Progress = { update() {}, finish: async () => {} };

export async function startProgress(output: Output, title: string): Promise<Progress> {
  const err = stderr();
  if (output.machine || !err.isTTY || process.env.CI) return silent;
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
  // Frames go through the writer as transient writes; other writes to stderr meanwhile (notices,
  // -v lines, the cursor listr2's log-update hides) are held by listr2 and written when it ends.
  // listr2 falls back to another renderer (with other options) when *stdout* is not a terminal:
  // the same renderer and options either way, so progress never lands in a redirected stdout.
  // (listr2 and log-update use write, isTTY, columns and rows of these streams: StderrStream has them.)
  const [frames, others] = [err.frames(), err] as unknown as NodeJS.WriteStream[];
  const options = { logger: new ListrLogger({ processOutput: new ProcessOutput(frames, others) }), showErrorMessage: false };
  let setTitle: (t: string) => void = () => {};
  let settle: (ok: boolean) => void = () => {};
  const finished = new Promise<boolean>((resolve) => (settle = resolve));
  const list = new Listr(
    [
      {
        title,
        task: async (_ctx, task) => {
          setTitle = (t) => (task.title = t);
          if (!(await finished)) throw new Error(task.title);
        },
      },
    ],
    {
      renderer: 'default',
      rendererOptions: options,
      fallbackRenderer: 'default',
      fallbackRendererOptions: options,
      registerSignalListeners: false,
      exitOnError: false,
    },
  );
  const running = list.run().catch(() => {});
  return {
    update: (t) => setTitle(t),
    finish: async (ok, finalTitle) => {
      if (finalTitle) setTitle(finalTitle);
      settle(ok);
      await running;
    },
  };
}
