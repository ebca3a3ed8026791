/**
 * An unknown command or topic (`koncli lease aquire x`): one line with the nearest command and exit 2,
 * decided before oclif runs, so no prompt ever waits for an answer (@oclif/plugin-not-found asks
 * "Did you mean …? (Y/n)" on a terminal and exits 127 without one).
 */

/** Commands of oclif's own plugins that koncli's manifest does not list. */
const PLUGIN_COMMANDS = ['help', 'autocomplete'];

/** A command as an oclif manifest (or a loaded plugin) describes it, as far as `unknownCommand` needs it. */
export interface CommandShape {
  aliases?: string[];
  args?: object;
  strict?: boolean;
}

/** Every command id with its aliases (`status:all` for `status`). */
export const commandIdsOf = (commands: Record<string, CommandShape>): Set<string> =>
  new Set(Object.entries(commands).flatMap(([id, c]) => [id, ...(c.aliases ?? [])]));

/** The ids (and aliases) of the commands that take no argument: oclif reads a word after one as a subcommand ("command mutex:list:x not found"). */
export const arglessIdsOf = (commands: Record<string, CommandShape>): Set<string> =>
  commandIdsOf(Object.fromEntries(Object.entries(commands).filter(([, c]) => c.strict !== false && Object.keys(c.args ?? {}).length === 0)));

/** Edit distance (Levenshtein) between two short strings. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** The words before the first flag (or `--`). */
const leadingWords = (argv: string[]) => {
  const i = argv.findIndex((a) => a.startsWith('-'));
  return i < 0 ? argv : argv.slice(0, i);
};

export interface UnknownCommand {
  /** What was typed, as words ("lease aquire"). */
  typed: string;
  /** The nearest command, as words ("lease acquire"), if one is near enough. */
  suggestion?: string;
  /** `typed` is a command that takes no argument, and this word followed it. */
  unexpected?: string;
}

/**
 * Whether argv names no command and no topic of `ids` (oclif's "topic:command" ids). Undefined
 * when it names one, asks for help or the version, or has no words (root help).
 */
export function unknownCommand(argv: string[], ids: Set<string>, argless: Set<string> = new Set()): UnknownCommand | undefined {
  const words = leadingWords(argv);
  if (words.length === 0 || PLUGIN_COMMANDS.includes(words[0])) return undefined;
  const topics = new Set([...ids].filter((id) => id.includes(':')).map((id) => id.slice(0, id.lastIndexOf(':'))));
  for (let n = words.length; n >= 1; n--) {
    const id = words.slice(0, n).join(':');
    if (!ids.has(id)) continue;
    // A command that is also a topic (`status`; konductor's `status all` is an alias): oclif reads the next word as its subcommand.
    if (n < words.length && topics.has(id)) break;
    return n < words.length && argless.has(id) ? { typed: words.slice(0, n).join(' '), unexpected: words[n] } : undefined;
  }
  if (words.length === 1 && topics.has(words[0])) return undefined; // `koncli lease`: the topic's help
  // The typed command: a topic and one more word, or one word.
  const typed = words.slice(0, topics.has(words[0]) ? 2 : 1).join(' ');
  const scored = [...ids].map((id) => ({ id: id.replace(/:/g, ' '), d: distance(typed, id.replace(/:/g, ' ')) })).sort((a, b) => a.d - b.d);
  const best = scored[0];
  const near = best && best.d <= Math.max(2, Math.floor(typed.length / 3));
  return { typed, ...(near ? { suggestion: best.id } : {}) };
}

/** The one line for people: `unknown command "lease aquire"; did you mean "koncli lease acquire"? …`. */
export function unknownCommandMessage(u: UnknownCommand, prefix: string): string {
  if (u.unexpected !== undefined) return `${prefix} ${u.typed} takes no arguments, not "${u.unexpected}" (see ${prefix} ${u.typed} --help)`;
  const list = `${prefix} --help lists every command`;
  return `unknown command "${u.typed}"; ${u.suggestion ? `did you mean "${prefix} ${u.suggestion}"? (${list})` : list}`;
}
