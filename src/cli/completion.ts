// Shell completion scripts for bash and zsh, generated from the commands' flag definitions.

/** What completion needs of one command (oclif's manifest entry, reduced). */
export interface CompletionCommand {
  /** oclif id, topic and command joined by ':' (`lease:acquire`). */
  id: string;
  flags: Record<string, { name: string; char?: string; type: 'option' | 'boolean'; options?: readonly string[]; hidden?: boolean }>;
}

const quote = (words: Iterable<string>) => `'${[...new Set(words)].sort().join(' ')}'`;
const pattern = (id: string) => `"${id}"`;

/** Each topic's next words ('' is the top level): `lease` → acquire, release, … */
function commandTree(visible: CompletionCommand[]): Map<string, Set<string>> {
  const children = new Map<string, Set<string>>();
  for (const { id } of visible) {
    const parts = id.split(':');
    for (let i = 0; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(':');
      if (!children.has(parent)) children.set(parent, new Set());
      children.get(parent)!.add(parts[i]);
    }
  }
  return children;
}

/** The flags that take a value, each command's flag list, and the values of flags with a fixed set, as bash `case` lines. */
function flagTables(visible: CompletionCommand[]): { valueFlags: Set<string>; flagCases: string[]; valueCases: string[] } {
  const valueFlags = new Set<string>();
  const flagCases: string[] = [];
  const valueCases: string[] = [];
  for (const c of visible) {
    const names: string[] = [];
    for (const f of Object.values(c.flags)) {
      if (f.hidden) continue;
      const spellings = [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])];
      names.push(...spellings);
      if (f.type === 'option') spellings.forEach((s) => valueFlags.add(s));
      if (f.options?.length) valueCases.push(`    ${pattern(c.id)}:${spellings.map((s) => `${s}`).join(`|${pattern(c.id)}:`)}) opts=${quote(f.options)} ;;`);
    }
    names.push('--help');
    flagCases.push(`    ${pattern(c.id)}) opts=${quote(names)} ;;`);
  }
  return { valueFlags, flagCases, valueCases };
}

/**
 * A bash completion function `_koncli` (registered for koncli and kubectl-koncli) that completes
 * topics, commands, flags, and the values of flags with a fixed set (--kind, -o, …). The global
 * flags work before the command too, as on the command line (src/cli/argv.ts); a word after a
 * flag that takes a value is that value, not a command.
 */
export function bashCompletion(commands: CompletionCommand[], bin = 'koncli'): string {
  const visible = commands.filter((c) => !c.id.includes('autocomplete'));
  const children = commandTree(visible);
  const { valueFlags, flagCases, valueCases } = flagTables(visible);
  const known = `|${visible.map((c) => c.id).join('|')}|`;
  const topCases = [...children].map(([parent, next]) => `    "${parent}") opts=${quote(next)} ;;`);
  return `# ${bin} completion for bash. Load it with: source <(${bin} completion bash)
_koncli() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" cmd="" word i opts=""
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case " ${[...valueFlags].sort().join(' ')} " in
      *" $word "*) ((i++)); continue ;;
    esac
    case "$word" in
      -*) ;;
      *) case "${known}" in
           *"|$cmd|"*) ;; # a whole command: later words are its arguments
           *) cmd="\${cmd:+$cmd:}$word" ;;
         esac ;;
    esac
  done
  case "$cmd:$prev" in
${valueCases.join('\n')}
  esac
  if [ -z "$opts" ]; then
    case "$prev" in
      -n|--namespace|--context|--lock) _koncli_names; return 0 ;;
    esac
    case " ${[...valueFlags].sort().join(' ')} " in
      *" $prev "*) return 0 ;; # a flag's free-form value
    esac
    if [[ "$cur" == -* ]]; then
      case "$cmd" in
${flagCases.map((l) => `  ${l}`).join('\n')}
        *) opts='--help' ;;
      esac
    else
      case "$cmd" in
${topCases.map((l) => `  ${l}`).join('\n')}
      esac
      # A command's NAME: lease, semaphore and object names, from the cluster.
      [ -z "$opts" ] && case "${known}" in *"|$cmd|"*) _koncli_names; return 0 ;; esac
    fi
  fi
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
# Names (namespaces, contexts, leases, semaphores, objects, locks) from '${bin} __complete', the
# same answers kubectl gets from kubectl_complete-koncli; nothing when the cluster cannot be asked.
_koncli_names() {
  local IFS=$'\\n'
  COMPREPLY=($("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null | grep -v '^:'))
}
complete -F _koncli ${bin} kubectl-koncli
`;
}

/** zsh runs the same function through its bash completion layer (bashcompinit). */
export function zshCompletion(commands: CompletionCommand[], bin = 'koncli'): string {
  return `#compdef ${bin} kubectl-koncli
# ${bin} completion for zsh. Load it with: source <(${bin} completion zsh)
autoload -U +X compinit && { (( $+functions[compdef] )) || compinit; }
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(commands, bin).split('\n').slice(1).join('\n')}`;
}
