import type { ModelConfig, ModelConfigInfo, ParameterConfig, SamplingParameters } from "../client/wire-types.js";

/**
 * `oasst_shared.model_configs.MODEL_CONFIGS`, in its dict order (the models list keeps
 * that order whatever ALLOWED_MODEL_CONFIG_NAMES says), and the 8 sampling presets the
 * server attaches to every model (protocol section 5).
 */

function config(model_id: string, max_input_length: number, max_total_length: number, quantized = false): ModelConfig {
  return { model_id, max_input_length, max_total_length, quantized };
}

export const MODEL_CONFIGS: ReadonlyMap<string, ModelConfig> = new Map([
  ["_lorem", config("_lorem", 128, 256)],
  ["distilgpt2", config("distilgpt2", 512, 1024)],
  ["OA_SFT_Pythia_12B", config("OpenAssistant/oasst-sft-1-pythia-12b", 1024, 2048)],
  ["OA_SFT_Pythia_12Bq", config("OpenAssistant/oasst-sft-1-pythia-12b", 1024, 2048, true)],
  ["OA_SFT_Pythia_12B_4", config("OpenAssistant/oasst-sft-4-pythia-12b-epoch-3.5", 1024, 2048)],
  ["OA_SFT_Pythia_12Bq_4", config("OpenAssistant/oasst-sft-4-pythia-12b-epoch-3.5", 1024, 2048, true)],
  ["OA_SFT_Llama_7B", config("OpenAssistant/oasst_sft_llama_7b_mask_1000", 1024, 2048)],
  ["OA_SFT_Llama_13B", config("OpenAssistant/oasst_sft_llama_13b_mask_1500", 1024, 2048)],
  ["OA_SFT_Llama_13Bq", config("OpenAssistant/oasst_sft_llama_13b_mask_1500", 1024, 2048, true)],
  ["OA_SFT_Llama_30B", config("OpenAssistant/llama_30b_oasst_latcyr_1000", 1024, 1792)],
  ["OA_SFT_Llama_30Bq", config("OpenAssistant/llama_30b_oasst_latcyr_1000", 1024, 1792, true)],
  ["OA_SFT_Llama_30B_2", config("OpenAssistant/llama_30b_oasst_latcyr_400", 1024, 1792)],
  ["OA_SFT_Llama_30Bq_2", config("OpenAssistant/llama_30b_oasst_latcyr_400", 1024, 1792, true)],
  ["OA_SFT_Llama_30B_5", config("OpenAssistant/oasst-sft-5-llama-30b-epoch-1", 1024, 1792)],
  ["OA_SFT_Llama_30Bq_5", config("OpenAssistant/oasst-sft-5-llama-30b-epoch-1", 1024, 1792, true)],
  ["OA_SFT_Llama_30B_6", config("OpenAssistant/oasst-sft-6-llama-30b", 1024, 1792)],
  ["OA_SFT_Llama_30Bq_6", config("OpenAssistant/oasst-sft-6-llama-30b", 1024, 1792, true)],
  ["OA_SFT_Llama_30B_7", config("OpenAssistant/oasst-sft-7-llama-30b", 1024, 1792)],
  ["OA_SFT_Llama_30Bq_7", config("OpenAssistant/oasst-sft-7-llama-30b", 1024, 1792, true)],
  ["OA_SFT_Llama_30B_7e3", config("OpenAssistant/oasst-sft-7e3-llama-30b", 1024, 1792)],
  ["OA_RLHF_Llama_30B_2_7k", config("OpenAssistant/oasst-rlhf-2-llama-30b-7k-steps", 1024, 1792)],
  ["Carper_RLHF_13B_1", config("CarperAI/vicuna-13b-fine-tuned-rlhf", 1024, 2048)],
  ["Carper_RLHF_13Bq_1", config("CarperAI/vicuna-13b-fine-tuned-rlhf", 1024, 2048, true)],
  ["OA_SFT_Llama2_70B_10", config("OpenAssistant/llama2-70b-oasst-sft-v10", 3072, 4096)],
  ["OA_SFT_CodeLlama_13B_10", config("OpenAssistant/codellama-13b-oasst-sft-v10", 8192, 12288)],
]);

export const MODEL_NAMES: readonly string[] = [...MODEL_CONFIGS.keys()];

/** What omitting `sampling_parameters` means: all null, `max_new_tokens` 1024. */
export const DEFAULT_SAMPLING_PARAMETERS: SamplingParameters = {
  top_k: null,
  top_p: null,
  typical_p: null,
  temperature: null,
  repetition_penalty: null,
  max_new_tokens: 1024,
};

function preset(
  name: string,
  description: string,
  [top_k, top_p, typical_p, temperature, repetition_penalty]: [number | null, number | null, number | null, number, number],
): ParameterConfig {
  return {
    name,
    description,
    sampling_parameters: { top_k, top_p, typical_p, temperature, repetition_penalty, max_new_tokens: 1024 },
  };
}

export const PARAMETER_PRESETS: readonly ParameterConfig[] = [
  preset("k50", "Top-k sampling with k=50", [50, 0.95, null, 0.75, 1.2]),
  preset("k50-Creative", "Top-k sampling with k=50, higher temperature", [50, 0.95, null, 0.85, 1.2]),
  preset("k50-Precise", "Top-k sampling with k=50, low temperature", [50, 0.95, null, 0.1, 1.2]),
  preset("k50-Original", "Top-k sampling with k=50, highest temperature", [50, 0.95, null, 0.9, 1.2]),
  preset("k50-Plugins", "Top-k sampling with k=50 and temperature=0.35", [50, null, null, 0.35, 1.1111111111111112]),
  preset("nucleus9", "Nucleus sampling with p=0.9", [null, 0.9, null, 0.8, 1.2]),
  preset("typical2", "Typical sampling with p=0.2", [null, null, 0.2, 0.8, 1.2]),
  preset("typical3", "Typical sampling with p=0.3", [null, null, 0.3, 0.8, 1.2]),
];

/** `GET /configs/model_configs`: the allowed models in dict order, each with every preset. */
export function modelConfigInfos(allowed: ReadonlySet<string> | "*"): ModelConfigInfo[] {
  return MODEL_NAMES.filter((name) => allowed === "*" || allowed.has(name)).map((name) => ({
    name,
    description: "",
    parameter_configs: [...PARAMETER_PRESETS],
  }));
}

export type ModelLookup = { ok: true; config: ModelConfig } | { ok: false; detail: string };

/**
 * `chat_utils.get_model_config`: the allowed-list check comes first, so with a restricted
 * list an unknown name is reported as "not in allowed models".
 */
export function lookUpModel(name: string, allowed: ReadonlySet<string> | "*"): ModelLookup {
  if (allowed !== "*" && !allowed.has(name)) {
    return { ok: false, detail: `Model ${name} not in allowed models: ${[...allowed].join(",")}` };
  }
  const found = MODEL_CONFIGS.get(name);
  return found ? { ok: true, config: { ...found } } : { ok: false, detail: `Model ${name} not found` };
}
