import type { ModelConfigInfo, ParameterConfig } from "../client/wire-types.js";
import type { CliContext } from "./cli-context.js";
import type { ConnectionFlags } from "./config.js";
import { openClient } from "./connection.js";
import { stderrWarner } from "./error-output.js";
import { formatTable } from "./table.js";
import { ignoreClosedPipe, stdoutPalette } from "./terminal.js";
import { VerboseLog } from "./verbose-log.js";

/** `oasst models`: the server's models with their sampling presets. */
export async function runModels(context: CliContext, flags: ConnectionFlags & { json?: boolean }): Promise<void> {
  const { stdout } = context;
  stdout.on("error", ignoreClosedPipe);
  const log = new VerboseLog(context, flags.verbose === true);
  const client = await openClient(context, flags, log, stderrWarner(context));
  let models: ModelConfigInfo[];
  try {
    models = await client.listModels();
  } finally {
    await client.close();
  }
  if (flags.json) {
    stdout.write(`${JSON.stringify(models, null, 2)}\n`);
    return;
  }
  const colors = stdoutPalette(context);
  // The real server sends an empty description for every model: no empty column then.
  const described = models.some((model) => model.description.trim() !== "");
  const rows = models.map((model) => [model.name, ...(described ? [model.description] : []), model.parameter_configs.map((preset) => preset.name).join(", ")]);
  stdout.write(formatTable(["NAME", ...(described ? ["DESCRIPTION"] : []), "PRESETS"], rows, colors));
  const presets = distinctPresets(models);
  if (presets.length === 0) return;
  const cell = (value: number | null) => (value === null ? "-" : String(value));
  const presetRows = presets.map(({ name, description, sampling_parameters: p }) => [
    name,
    cell(p.top_k),
    cell(p.top_p),
    cell(p.typical_p),
    cell(p.temperature),
    cell(p.repetition_penalty),
    cell(p.max_new_tokens),
    description,
  ]);
  stdout.write("\n");
  stdout.write(
    formatTable(["PRESET", "TOP_K", "TOP_P", "TYPICAL_P", "TEMPERATURE", "REPETITION_PENALTY", "MAX_NEW_TOKENS", "DESCRIPTION"], presetRows, colors),
  );
}

/** The presets once each: the real server attaches the same ones to every model. */
function distinctPresets(models: ModelConfigInfo[]): ParameterConfig[] {
  const seen = new Map<string, ParameterConfig>();
  for (const model of models) {
    for (const preset of model.parameter_configs) seen.set(JSON.stringify([preset.name, preset.sampling_parameters]), preset);
  }
  return [...seen.values()];
}
