// kubectl's habits on koncli's command line, applied to argv before oclif parses it.

/** Global flags that take a value, as kubectl spells them (oclif's names of koncli's base flags). */
const VALUE_FLAGS = new Set(['--kubeconfig', '--context', '--namespace', '-n', '--request-timeout', '--max-clock-skew', '--output', '-o']);
/** Global flags without a value. */
const SWITCHES = new Set(['--json', '--verbose', '-v']);
const CANONICAL: Record<string, string> = { '-n': '--namespace', '-o': '--output', '-v': '--verbose' };
/** A flag's long name: `-nops` and `--namespace=ops` are both --namespace. */
function flagName(arg: string): string {
  const name = arg.startsWith('--') ? arg.split('=')[0] : arg.slice(0, 2);
  return CANONICAL[name] ?? name;
}
/** kubectl logs each request from -v=6 on ("display requested resources"); koncli's -v does that. */
export const REQUEST_LOG_LEVEL = 6;

/**
 * kubectl's verbosity flag (`-v=6`, `--v=6`, `-v6`, `-v 6`, `--v 6`) mapped onto koncli's
 * `--verbose`: levels from 6 on log each request, lower levels log nothing. A bare `-v` stays
 * koncli's own switch. As in kubectl, a number after `-v` is its level, not an argument.
 */
function mapVerbosity(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let level: string | undefined;
    const joined = /^(?:--?v=|-v)(\d+)$/.exec(arg);
    if (joined) level = joined[1];
    else if ((arg === '-v' || arg === '--v') && /^\d+$/.test(args[i + 1] ?? '')) level = args[++i];
    if (level === undefined) out.push(arg);
    else if (Number(level) >= REQUEST_LOG_LEVEL) out.push('--verbose');
  }
  return out;
}

/**
 * Rewrites argv so that kubectl's global flags work before the command as well as after it
 * (`koncli -n ops lease status x` = `koncli lease status x -n ops`), and kubectl's `-v=N` works
 * anywhere. Flags before the command move to just after the leading words (topic, command and
 * arguments), so a repeated flag after the command still wins, as the last one does in kubectl.
 * Nothing after a `--` is touched (a `lease run` command line). Help and version flags, and
 * unknown flags before the command, stay where they are for oclif to answer.
 */
export function kubectlArgv(argv: string[]): string[] {
  const end = argv.indexOf('--');
  const head = mapVerbosity(end < 0 ? argv : argv.slice(0, end));
  const tail = end < 0 ? [] : argv.slice(end);
  const leading: string[][] = [];
  let i = 0;
  while (i < head.length && head[i].startsWith('-')) {
    const arg = head[i];
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (VALUE_FLAGS.has(name) && name === arg) {
      if (i + 1 >= head.length) break; // a flag without its value: let oclif say so
      leading.push([arg, head[i + 1]]);
      i += 2;
    } else if (VALUE_FLAGS.has(name) || SWITCHES.has(arg) || /^-[no]\S/.test(arg)) {
      leading.push([arg]); // --namespace=ops, -nops, -ojson
      i++;
    } else break;
  }
  if (leading.length === 0 || i >= head.length) return [...head, ...tail];
  let words = i;
  while (words < head.length && !head[words].startsWith('-')) words++;
  // oclif refuses a flag given twice; kubectl takes the last one: drop a leading flag given again later.
  const later = new Set(
    head
      .slice(words)
      .filter((a) => a.startsWith('-'))
      .map(flagName),
  );
  const kept = leading
    .reverse()
    .filter(([flag]) => !later.has(flagName(flag)) && (later.add(flagName(flag)), true))
    .reverse()
    .flat();
  return [...head.slice(i, words), ...kept, ...head.slice(words), ...tail];
}
