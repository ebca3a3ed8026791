import type { Output } from './output.js';

/** A live status line on stderr while koncli waits; nothing at all off a terminal or with --json. */
export interface Progress {
  update(title: string): void;
  finish(ok: boolean, title?: string): Promise<void>;
}

const silent: Progress = { update() {}, finish: async () => {} };

export async function startProgress(output: Output, title: string): Promise<Progress> {
  if (output.machine || !process.stderr.isTTY || process.env.CI) return silent;
  const { Listr, ListrLogger, ProcessOutput } = await import('listr2');
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
      rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }), showErrorMessage: false },
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
