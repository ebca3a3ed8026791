// No prompts, no stray output (issue 23): an unknown command or topic is one line with the nearest
// command and exit 2, with or without a terminal (a real pty from util-linux's `script`), and the
// JSON error document under --json; -h is --help; root and topic help end with the exit codes; as a
// kubectl plugin (run by the plane's kubectl from PATH) help says `kubectl koncli`.
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { kubectlPath, runCommand } from '../support/access.js';
import { KONCLI_ARGV, KONCLI_COMMAND, runKoncli } from '../support/cli.js';

const EXIT_TABLE = /EXIT CODES\n {3}0 {2}ok[\s\S]* 10 {2}rejected/;

describe('unknown commands and help', () => {
  test('a typo is one line with the suggestion and exit 2, nothing on stdout; --json gives the error document', async () => {
    const typo = await runKoncli(['lease', 'aquire', 'x']);
    expect(typo).toMatchObject({ code: 2, stdout: '' });
    expect(typo.stderr).toBe('koncli: error: unknown command "lease aquire"; did you mean "koncli lease acquire"? (koncli --help lists every command)\n');
    const json = await runKoncli(['lease', 'aquire', 'x', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      error: { kind: 'usage', exitCode: 2, typed: 'lease aquire', suggestion: 'lease acquire', message: expect.stringContaining('did you mean') },
    });
    const topic = await runKoncli(['leese', 'status']);
    expect(topic.code).toBe(2);
    expect(topic.stderr).toContain('unknown command "leese"');
  });

  test('a word after a command that takes none is one koncli line, exit 2 (not oclif\'s "command mutex:list:x not found"); `version` is konductor\'s', async () => {
    const extra = await runKoncli(['mutex', 'list', 'extra']);
    expect(extra).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'koncli: error: koncli mutex list takes no arguments, not "extra" (see koncli mutex list --help)\n',
    });
    const status = await runKoncli(['status', 'semaphores', 'x']); // `status` is also a topic: konductor's `status all|semaphore|…`
    expect([status.code, status.stderr]).toEqual([
      2,
      expect.stringMatching(/^koncli: error: unknown command "status semaphores"; did you mean "koncli status semaphore"\?.*\n$/),
    ]);
    const version = await runKoncli(['version', '--json']);
    expect([version.code, JSON.parse(version.stdout)]).toEqual([
      0,
      expect.objectContaining({ name: 'koncli', version: expect.stringMatching(/^\d+\.\d+\.\d+/) }),
    ]);
    expect((await runKoncli(['version'])).stdout).toBe((await runKoncli(['--version'])).stdout);
  });

  test('on a terminal it does not prompt: same line, exit 2, at once', async () => {
    // `script` gives koncli a pty for stdin, stdout and stderr; stdin is at end of file, so a prompt would hang until the timeout.
    const run = await runCommand('script', ['-qec', `${KONCLI_COMMAND} lease aquire x`, '/dev/null'], { timeoutMs: 30_000, env: { NO_COLOR: '1' } });
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('unknown command "lease aquire"; did you mean "koncli lease acquire"?');
    expect(run.stdout).not.toMatch(/Y\/n/);
  });

  test('-h is --help; root and topic help end with the exit-code table', async () => {
    const short = await runKoncli(['lease', 'release', '-h']);
    const long = await runKoncli(['lease', 'release', '--help']);
    expect(short).toMatchObject({ code: 0, stdout: long.stdout });
    expect(long.stdout).toMatch(/--if-holder/);
    for (const args of [['--help'], ['-h'], ['lease', '--help'], ['semaphore', '-h']]) {
      const help = await runKoncli(args);
      expect({ args, code: help.code }).toEqual({ args, code: 0 });
      expect(help.stdout.trimEnd()).toMatch(new RegExp(`${EXIT_TABLE.source}[^\\n]*$`));
    }
  });

  test('as a kubectl plugin, help says kubectl koncli', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'koncli-plugin-'));
    // The npm build's plugin is bin/kubectl-koncli.js; the single executable is installed under that name.
    const target = process.env.KONCLI_TEST_EXECUTABLE ? KONCLI_ARGV[0] : resolve(dirname(KONCLI_ARGV[1]), 'kubectl-koncli.js');
    symlinkSync(target, join(dir, 'kubectl-koncli'));
    const path = [dir, dirname(process.execPath), process.env.PATH].join(':');
    const help = await runCommand(kubectlPath(), ['koncli', 'status', '--help'], { env: { PATH: path } });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ kubectl koncli status -A --stuck');
    const typo = await runCommand(kubectlPath(), ['koncli', 'stauts'], { env: { PATH: path } });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('did you mean "kubectl koncli status"?');
  });
});
