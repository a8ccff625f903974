import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { closestMatch } from "../util/suggest.js";

/**
 * `build` is the default command, so commander hands it whatever the user typed in place of a
 * command: `triton-build plna --preset full` reaches `build` with the operand 'plna'. `build`
 * takes no operands; this says what went wrong instead of "too many arguments for 'build'".
 */
export function strayOperandError(command: Command): UsageError | undefined {
  const [stray] = command.args;
  if (stray === undefined) return undefined;
  const program = command.parent;
  const commands = program?.commands.map((c) => c.name()) ?? [];
  return describeStrayOperand(stray, { commands, typedCommand: program?.args[0] === command.name() });
}

/** Pure: the error for an operand `build` got; `typedCommand` when the user typed `build` itself. */
export function describeStrayOperand(stray: string, context: { commands: readonly string[]; typedCommand: boolean }): UsageError {
  if (context.commands.includes(stray)) {
    return new UsageError(`the command '${stray}' must come first, before any option`, `e.g. triton-build ${stray} --preset NAME`);
  }
  if (context.typedCommand) {
    return new UsageError(`unexpected argument '${stray}': build takes options only`, "e.g. triton-build build --preset NAME; see `triton-build build --help`");
  }
  const suggestion = closestMatch(stray, context.commands);
  return new UsageError(
    `unknown command '${stray}'${suggestion ? ` (did you mean '${suggestion}'?)` : ""}`,
    `commands: ${context.commands.join(", ")}; without a command, triton-build builds (see \`triton-build --help\`)`,
  );
}
