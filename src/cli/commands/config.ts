import { Command } from "commander";
import { CONFIG_KEYS, envVarName, isConfigKey } from "../../config/keys.js";
import { configFile, deleteConfigValue, parseConfigValue, readConfig, writeConfigValue } from "../../config/store.js";
import { UsageError } from "../../errors.js";
import { expectedOneOf } from "../../util/suggest.js";
import { table, type Output } from "../output.js";

export function configCommand(output: Output): Command {
  const command = new Command("config")
    .description("user settings; a flag or TRITON_BUILD_* variable still wins over them")
    .addHelpText(
      "after",
      "\nExamples:\n  triton-build config set cacheDir /data/triton-build-cache\n  triton-build config get cacheDir\n  triton-build config list",
    );

  command
    .command("get")
    .description("print one setting")
    .argument("<key>", "setting name")
    .addHelpText("after", "\nExample:\n  triton-build config get source")
    .action(async (key: string) => {
      if (!isConfigKey(key)) throw new UsageError(`unknown config key '${key}'; ${expectedOneOf(key, Object.keys(CONFIG_KEYS))}`);
      const value = (await readConfig())[key];
      output.out(value === undefined ? "" : String(value));
    });

  command
    .command("set")
    .description("store one setting")
    .argument("<key>", "setting name")
    .argument("<value>", "new value")
    .addHelpText("after", "\nExample:\n  triton-build config set remoteCache registry.example.com/triton-cache")
    .action(async (key: string, raw: string) => {
      const { key: name, value } = parseConfigValue(key, raw);
      await writeConfigValue(name, value);
    });

  command
    .command("unset")
    .description("remove one setting (back to the default)")
    .argument("<key>", "setting name")
    .addHelpText("after", "\nExample:\n  triton-build config unset jobs")
    .action(async (key: string) => {
      if (!isConfigKey(key)) throw new UsageError(`unknown config key '${key}'; ${expectedOneOf(key, Object.keys(CONFIG_KEYS))}`);
      await deleteConfigValue(key);
    });

  command
    .command("list")
    .description("every setting: value, environment variable, default")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  triton-build config list")
    .action(async (opts: { json?: boolean }) => {
      const values = await readConfig();
      if (opts.json) {
        output.out(JSON.stringify({ file: configFile(), values }, null, 2));
        return;
      }
      const rows = [["KEY", "VALUE", "ENV", "DEFAULT / MEANING"]];
      for (const [name, key] of Object.entries(CONFIG_KEYS)) {
        const value = values[name as keyof typeof values];
        const meaning = "defaultText" in key ? `${key.defaultText} (${key.description})` : key.description;
        rows.push([name, value === undefined ? "-" : String(value), envVarName(name), meaning]);
      }
      output.out(table(rows, ""));
      output.out(`\nfile: ${configFile()}`);
    });
  return command;
}
