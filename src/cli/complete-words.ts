/**
 * What to complete, from the words typed so far (`koncli __complete lease status -n ops ''`, as
 * kubectl asks a plugin's `kubectl_complete-koncli`, and as the bash completion asks for names).
 * Pure: the names themselves are listed by src/kube/names.ts.
 */

export type NameKind = 'namespaces' | 'contexts' | 'leases' | 'semaphores' | 'objects' | 'locks';

export interface CompletionRequest {
  /** Fixed words to offer (commands, flags, a flag's options), or names to list from the cluster. */
  words?: string[];
  names?: NameKind;
  /** The cluster flags typed so far. */
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** --kind of the lease commands. */
  leaseKind?: string;
  /** kubelock: the TYPE/NAME typed (for --lock), or the TYPE being completed (for objects). */
  target?: string;
  /** What is being completed. */
  current: string;
}

export interface CommandShape {
  id: string;
  /** Flag spellings ("--namespace", "-n") → whether it takes a value and its fixed options. */
  flags: Record<string, { value: boolean; options?: readonly string[] }>;
}

const NAME_OF: Record<string, NameKind> = { lease: 'leases', semaphore: 'semaphores', kubelock: 'objects' };

/** The flags typed, and the command the words name (the longest id that is a prefix of the non-flag words). */
function scan(words: string[], commands: CommandShape[]) {
  const flags: Record<string, string> = {};
  const plain: string[] = [];
  const valued = (f: string) => commands.some((c) => c.flags[f]?.value);
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('-')) {
      const [name, inline] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
      if (inline !== undefined) flags[name] = inline;
      else if (valued(name) && i + 1 < words.length) flags[name] = words[++i];
      else flags[name] = '';
    } else plain.push(w);
  }
  let command: CommandShape | undefined;
  for (let n = plain.length; n > 0 && !command; n--) command = commands.find((c) => c.id === plain.slice(0, n).join(':'));
  const args = command ? plain.slice(command.id.split(':').length) : [];
  return { flags, plain, command, args };
}

/** Decides what `current` (the last word) completes to. */
export function completionRequest(typed: string[], commands: CommandShape[]): CompletionRequest {
  const words = typed.slice(0, -1);
  const current = typed.at(-1) ?? '';
  const { flags, plain, command, args } = scan(words, commands);
  const base = {
    current,
    kubeconfig: flags['--kubeconfig'],
    context: flags['--context'],
    namespace: flags['-n'] ?? flags['--namespace'],
    leaseKind: flags['--kind'],
  };
  const prev = words.at(-1) ?? '';
  const prevFlag = command?.flags[prev] ?? commands.find((c) => c.flags[prev])?.flags[prev];
  if (prevFlag?.value) {
    if (prev === '-n' || prev === '--namespace') return { ...base, names: 'namespaces' };
    if (prev === '--context') return { ...base, names: 'contexts' };
    if (prev === '--lock' && command?.id.startsWith('kubelock:')) return { ...base, names: 'locks', target: args[0] };
    return { ...base, words: [...(prevFlag.options ?? [])] };
  }
  if (current.startsWith('-')) return { ...base, words: command ? [...Object.keys(command.flags), '--help'] : ['--help'] };
  if (command) {
    const topic = command.id.split(':')[0];
    const names = command.id.includes(':') ? NAME_OF[topic] : undefined;
    return names && args.length === 0 ? { ...base, names, target: current } : { ...base, words: [] };
  }
  // Topics and commands: the next word after what was typed.
  const prefix = plain.join(':');
  const next = commands.filter((c) => (prefix ? c.id.startsWith(`${prefix}:`) : true)).map((c) => c.id.slice(prefix ? prefix.length + 1 : 0).split(':')[0]);
  return { ...base, words: [...new Set(next)].sort() };
}
