import { DEFAULT_SAMPLING_PARAMETERS } from "./models.js";
import { pythonFloatRepr } from "./pydantic-json.js";

/**
 * Request-body validation as the inference server does it (FastAPI 0.88 + pydantic v1):
 * lax coercions (`"5"` is an int, `5` is a str), errors collected field by field with
 * `loc` starting at `"body"`, and v1's messages and error types, which the website relays
 * as `{"message": [{loc, msg, type}]}`.
 */

export interface ValidationIssue {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

export type FieldType =
  | { kind: "str"; maxLength?: number }
  | { kind: "int" }
  | { kind: "float" }
  | { kind: "bool" }
  | { kind: "list"; item: FieldType }
  | { kind: "model"; fields: ModelFields }
  | { kind: "json" };

export interface FieldSpec {
  type: FieldType;
  /** `T | None`: null is accepted. */
  nullable: boolean;
  /** Present when the field may be omitted. */
  default?: unknown;
}

export type ModelFields = ReadonlyArray<readonly [name: string, spec: FieldSpec]>;

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ValidationIssue[] };

const INVALID = Symbol("invalid");

const BOOL_TRUE = new Set(["1", "on", "t", "true", "y", "yes"]);
const BOOL_FALSE = new Set(["0", "off", "f", "false", "n", "no"]);
const PY_INT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;
const PY_FLOAT = /^\s*[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?\s*$/;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A JS number as Python would have parsed its JSON text: integral and below 1e21 means int. */
function pythonStr(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? String(value) : pythonFloatRepr(value);
}

type Validated = unknown | typeof INVALID;

function validateScalar(value: unknown, type: FieldType, loc: ValidationIssue["loc"], issues: ValidationIssue[]): Validated {
  const fail = (msg: string, errorType: string) => {
    issues.push({ loc, msg, type: errorType });
    return INVALID;
  };
  switch (type.kind) {
    case "str": {
      let text: string;
      if (typeof value === "string") text = value;
      else if (typeof value === "number") text = pythonStr(value);
      else if (typeof value === "boolean") text = value ? "True" : "False";
      else return fail("str type expected", "type_error.str");
      if (type.maxLength !== undefined && [...text].length > type.maxLength) {
        return fail(`ensure this value has at most ${type.maxLength} characters`, "value_error.any_str.max_length");
      }
      return text;
    }
    case "int":
      if (typeof value === "boolean") return Number(value);
      if (typeof value === "number" && Number.isFinite(value)) return Math.trunc(value);
      if (typeof value === "string" && PY_INT.test(value)) return Number(value.replaceAll("_", ""));
      return fail("value is not a valid integer", "type_error.integer");
    case "float":
      if (typeof value === "boolean") return Number(value);
      if (typeof value === "number") return value;
      if (typeof value === "string" && PY_FLOAT.test(value)) return Number(value.replaceAll("_", ""));
      return fail("value is not a valid float", "type_error.float");
    case "bool":
      if (typeof value === "boolean") return value;
      if (value === 0 || value === 1) return value === 1;
      if (typeof value === "string" && BOOL_TRUE.has(value.toLowerCase())) return true;
      if (typeof value === "string" && BOOL_FALSE.has(value.toLowerCase())) return false;
      return fail("value could not be parsed to a boolean", "type_error.bool");
    default:
      return value;
  }
}

function validateValue(value: unknown, type: FieldType, loc: ValidationIssue["loc"], issues: ValidationIssue[]): Validated {
  if (type.kind === "model") return validateFields(value, type.fields, loc, issues);
  if (type.kind === "list") {
    if (!Array.isArray(value)) {
      issues.push({ loc, msg: "value is not a valid list", type: "type_error.list" });
      return INVALID;
    }
    return value.map((item: unknown, index) => validateValue(item, type.item, [...loc, index], issues));
  }
  return validateScalar(value, type, loc, issues);
}

function validateFields(value: unknown, fields: ModelFields, loc: ValidationIssue["loc"], issues: ValidationIssue[]): Record<string, unknown> | typeof INVALID {
  if (!isPlainObject(value)) {
    issues.push({ loc, msg: "value is not a valid dict", type: "type_error.dict" });
    return INVALID;
  }
  const validated: Record<string, unknown> = {};
  for (const [name, spec] of fields) {
    const fieldLoc = [...loc, name];
    if (!Object.hasOwn(value, name)) {
      if ("default" in spec) validated[name] = structuredClone(spec.default);
      else issues.push({ loc: fieldLoc, msg: "field required", type: "value_error.missing" });
      continue;
    }
    const member = value[name];
    if (member === null) {
      if (spec.nullable) validated[name] = null;
      else issues.push({ loc: fieldLoc, msg: "none is not an allowed value", type: "type_error.none.not_allowed" });
      continue;
    }
    validated[name] = validateValue(member, spec.type, fieldLoc, issues);
  }
  return validated;
}

/** Validates a request body against a model; on success the value holds every field, in field order. */
export function validateBody<T>(body: unknown, fields: ModelFields): ValidationResult<T> {
  const issues: ValidationIssue[] = [];
  const value = validateFields(body, fields, ["body"], issues);
  return issues.length === 0 ? { ok: true, value: value as T } : { ok: false, issues };
}

/** A query parameter parsed as a pydantic bool (`include_hidden`). */
export function parseQueryBool(text: string): boolean | undefined {
  const issues: ValidationIssue[] = [];
  const parsed = validateScalar(text, { kind: "bool" }, [], issues);
  return typeof parsed === "boolean" ? parsed : undefined;
}

// ---- Field helpers and the request models ----

export const STR: FieldType = { kind: "str" };
export const INT: FieldType = { kind: "int" };
export const FLOAT: FieldType = { kind: "float" };
export const BOOL: FieldType = { kind: "bool" };

export function required(type: FieldType): FieldSpec {
  return { type, nullable: false };
}

export function optional(type: FieldType, defaultValue: unknown, nullable = defaultValue === null): FieldSpec {
  return { type, nullable, default: defaultValue };
}

export const SAMPLING_PARAMETERS_FIELDS: ModelFields = [
  ["top_k", optional(INT, null)],
  ["top_p", optional(FLOAT, null)],
  ["typical_p", optional(FLOAT, null)],
  ["temperature", optional(FLOAT, null)],
  ["repetition_penalty", optional(FLOAT, null)],
  ["max_new_tokens", optional(INT, 1024)],
];

const PLUGIN_CONFIG_FIELDS: ModelFields = [
  ["schema_version", required(STR)],
  ["name_for_model", required(STR)],
  ["name_for_human", required(STR)],
  ["description_for_human", required(STR)],
  ["description_for_model", required(STR)],
  [
    "api",
    required({
      kind: "model",
      fields: [
        ["type", required(STR)],
        ["url", required(STR)],
        ["has_user_authentication", optional(BOOL, false, true)],
        ["is_user_authenticated", optional(BOOL, false, true)],
      ],
    }),
  ],
  ["auth", required({ kind: "model", fields: [["type", required(STR)]] })],
  ["logo_url", optional(STR, null)],
  ["contact_email", optional(STR, null)],
  ["legal_info_url", optional(STR, null)],
  ["endpoints", optional({ kind: "list", item: { kind: "json" } }, null)],
];

const PLUGIN_ENTRY_FIELDS: ModelFields = [
  ["url", required(STR)],
  ["enabled", optional(BOOL, true)],
  ["plugin_config", optional({ kind: "model", fields: PLUGIN_CONFIG_FIELDS }, null)],
  ["trusted", optional(BOOL, false, true)],
];

export const PROMPTER_MESSAGE_FIELDS: ModelFields = [
  ["parent_id", optional(STR, null)],
  ["content", required(STR)],
];

export const ASSISTANT_MESSAGE_FIELDS: ModelFields = [
  ["parent_id", required(STR)],
  ["model_config_name", required(STR)],
  ["sampling_parameters", optional({ kind: "model", fields: SAMPLING_PARAMETERS_FIELDS }, DEFAULT_SAMPLING_PARAMETERS)],
  ["system_prompt", optional(STR, null)],
  ["user_profile", optional(STR, null)],
  ["user_response_instructions", optional(STR, null)],
  ["plugins", optional({ kind: "list", item: { kind: "model", fields: PLUGIN_ENTRY_FIELDS } }, [])],
];

export const CHAT_UPDATE_FIELDS: ModelFields = [
  ["title", optional({ kind: "str", maxLength: 100 }, null)],
  ["hidden", optional(BOOL, null)],
  ["allow_data_use", optional(BOOL, null)],
  ["active_thread_tail_message_id", optional(STR, null)],
];

export const VOTE_FIELDS: ModelFields = [["score", required(INT)]];

export const MESSAGE_EVAL_FIELDS: ModelFields = [["inferior_message_ids", required({ kind: "list", item: STR })]];
