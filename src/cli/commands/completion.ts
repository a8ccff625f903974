import { Argument, Command, type Option } from "commander";
import { CONFIG_KEYS } from "../../config/keys.js";
import { listBuiltinPresets } from "../../presets/load.js";
import { bashScript, fishScript, zshScript, type CompletionCommand, type CompletionModel, type CompletionOption } from "../completion-scripts.js";
import { examples } from "../help.js";
import type { Output } from "../output.js";

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/** `triton-build completion bash|zsh|fish`: a script that completes commands, options, presets. */
export function completionCommand(output: Output, program: Command): Command {
  return new Command("completion")
    .description("print a shell completion script: commands, options, preset names")
    .addArgument(new Argument("<shell>", "the shell to complete in").choices(Object.keys(SHELLS)))
    .addHelpText(
      "after",
      examples([
        ["bash, for this shell", "source <(triton-build completion bash)"],
        ["bash, for every new shell", "triton-build completion bash > ~/.local/share/bash-completion/completions/triton-build"],
        ["zsh", "source <(triton-build completion zsh)"],
        ["fish", "triton-build completion fish > ~/.config/fish/completions/triton-build.fish"],
      ]),
    )
    .action(async (shell: keyof typeof SHELLS) => {
      output.out(SHELLS[shell](await completionModel(program)));
    });
}

/** The command tree as commander defines it, with the words each operand and option value can be. */
export async function completionModel(program: Command): Promise<CompletionModel> {
  const presets = (await listBuiltinPresets()).flatMap((p) => [p.name, ...p.aliases]);
  const operands: Record<string, string[]> = {
    "presets show": presets,
    "config get": Object.keys(CONFIG_KEYS),
    "config set": Object.keys(CONFIG_KEYS),
    "config unset": Object.keys(CONFIG_KEYS),
    completion: Object.keys(SHELLS),
  };
  const commands: CompletionCommand[] = [];
  const walk = (command: Command, path: string) => {
    const visible = command.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden);
    commands.push({
      path,
      description: command.description(),
      subcommands: visible.map((c) => c.name()),
      options: optionsOf(command, presets),
      operands: operands[path] ?? [],
    });
    for (const sub of visible) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, "");
  // `build` is the default command: its options work without naming it.
  const root = commands[0];
  const build = commands.find((c) => c.path === "build");
  if (root && build) root.options = [...root.options, ...build.options.filter((o) => !root.options.some((r) => r.long === o.long))];
  return { program: program.name(), commands };
}

function optionsOf(command: Command, presets: string[]): CompletionOption[] {
  const help = command.createHelp();
  return help.visibleOptions(command).flatMap((option) => {
    if (!option.long) return [];
    const value = optionValueKind(option, presets);
    return [{ long: option.long, ...(option.short ? { short: option.short } : {}), description: option.description, ...(value ? { value } : {}) }];
  });
}

function optionValueKind(option: Option, presets: string[]): CompletionOption["value"] {
  if (!option.required && !option.optional) return undefined;
  if (option.argChoices) return { words: option.argChoices };
  switch (option.attributeName()) {
    case "preset":
      return { words: presets };
    case "cacheDir":
    case "workDir":
    case "source":
      return "dir";
    case "report":
    case "python":
      return "file";
    default:
      return "any";
  }
}
