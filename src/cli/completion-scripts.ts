/**
 * Shell completion scripts, written from a model of the command tree (commands/completion.ts
 * builds it from commander's own definitions, so a new option is completed without a change here).
 * Pure: model in, script text out.
 */

export interface CompletionOption {
  /** `--cache-dir`, and `-j` when there is a short form. */
  long: string;
  short?: string;
  description: string;
  /** What its value is: a list of words, a file, a directory; absent for a flag. */
  value?: { words: string[] } | "file" | "dir" | "any";
}

export interface CompletionCommand {
  /** Words after `triton-build`: "" for the top level, "cache ls", ... */
  path: string;
  description: string;
  subcommands: string[];
  options: CompletionOption[];
  /** Words for the command's operands (preset names for `presets show`). */
  operands: string[];
}

export interface CompletionModel {
  program: string;
  commands: CompletionCommand[];
}

const shellWord = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
const fnName = (program: string) => `_${program.replace(/[^A-Za-z0-9]/g, "_")}`;

/** bash (and zsh through bashcompinit): `source <(triton-build completion bash)`. */
export function bashScript(model: CompletionModel): string {
  const fn = fnName(model.program);
  const valueOptions = new Map<string, CompletionOption["value"]>();
  for (const command of model.commands) {
    for (const option of command.options) {
      if (!option.value) continue;
      valueOptions.set(option.long, option.value);
      if (option.short) valueOptions.set(option.short, option.value);
    }
  }
  const valueCases = [...valueOptions.entries()].map(([flag, value]) => {
    const reply =
      value === "file"
        ? `COMPREPLY=($(compgen -f -- "$cur"))`
        : value === "dir"
          ? `COMPREPLY=($(compgen -d -- "$cur"))`
          : value === "any"
            ? "COMPREPLY=()"
            : `COMPREPLY=($(compgen -W ${shellWord(value?.words.join(" ") ?? "")} -- "$cur"))${flag === "--preset" || flag === "-p" ? `; COMPREPLY+=($(compgen -f -X '!*.y*ml' -- "$cur"))` : ""}`;
    return `    ${flag}) ${reply}; return ;;`;
  });
  const takesValue = [...valueOptions.keys()].join("|");
  const commandCases = model.commands.map((command) => {
    const words = [...command.subcommands, ...command.operands, ...command.options.flatMap((o) => [o.long])].join(" ");
    return `    ${shellWord(command.path)}) words=${shellWord(words)} ;;`;
  });
  const subcommandCases = model.commands
    .filter((command) => command.subcommands.length)
    .map((command) => `    ${shellWord(command.path)}) subs=${shellWord(command.subcommands.join(" "))} ;;`);
  return `# ${model.program} completion for bash; load it with: source <(${model.program} completion bash)
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" word subs words i
  [ "$COMP_CWORD" -gt 0 ] && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # The command so far: the words that name subcommands, skipping options and their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in -*) continue ;; esac
    case "\${COMP_WORDS[i-1]}" in ${takesValue || "--"}) continue ;; esac
    subs=""
    case "$path" in
${subcommandCases.join("\n")}
    esac
    case " $subs " in *" $word "*) path="\${path:+$path }$word" ;; esac
  done
  case "$prev" in
${valueCases.join("\n")}
  esac
  words=""
  case "$path" in
${commandCases.join("\n")}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${model.program}
`;
}

/** zsh: the bash function through zsh's bashcompinit. */
export function zshScript(model: CompletionModel): string {
  return `#compdef ${model.program}
# ${model.program} completion for zsh; load it with: source <(${model.program} completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(model).split("\n").slice(1).join("\n")}`;
}

/** fish: `triton-build completion fish > ~/.config/fish/completions/triton-build.fish`. */
export function fishScript(model: CompletionModel): string {
  const p = model.program;
  const lines = [`# ${p} completion for fish; load it with: ${p} completion fish | source`, `complete -c ${p} -f`];
  const fishWord = (text: string) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  // Within a command path: every word of the path seen, and none of its subcommands yet.
  const condition = (command: CompletionCommand) => {
    const parts = command.path ? command.path.split(" ").map((word) => `__fish_seen_subcommand_from ${word}`) : [];
    if (command.subcommands.length) parts.push(`not __fish_seen_subcommand_from ${command.subcommands.join(" ")}`);
    return parts.length ? parts.join("; and ") : "true";
  };
  for (const command of model.commands) {
    const when = fishWord(condition(command));
    const children = model.commands.filter(
      (c) => c.path.split(" ").length === (command.path ? command.path.split(" ").length + 1 : 1) && c.path.startsWith(command.path),
    );
    for (const child of children) {
      const name = child.path.split(" ").at(-1) ?? "";
      if (command.subcommands.includes(name)) lines.push(`complete -c ${p} -n ${when} -a ${fishWord(name)} -d ${fishWord(child.description)}`);
    }
    if (command.operands.length) lines.push(`complete -c ${p} -n ${when} -a ${fishWord(command.operands.join(" "))}`);
    for (const option of command.options) {
      const flags = [`-l ${option.long.replace(/^--/, "")}`, option.short ? `-s ${option.short.replace(/^-/, "")}` : ""].filter(Boolean).join(" ");
      const value =
        option.value === undefined
          ? ""
          : option.value === "file" || option.value === "dir" || option.value === "any"
            ? ` -r${option.value === "any" ? "" : " -F"}`
            : ` -x -a ${fishWord(option.value.words.join(" "))}`;
      lines.push(`complete -c ${p} -n ${when} ${flags}${value} -d ${fishWord(option.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
