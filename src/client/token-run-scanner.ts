import { Buffer } from "node:buffer";
import { TOKEN_RUN_SCANNER_WASM } from "./token-run-scanner-wasm.js";

/** What token-run-scanner.wat exports. */
interface ScannerExports {
  memory: WebAssembly.Memory;
  end: WebAssembly.Global;
  written: WebAssembly.Global;
  tokens(pos: number, length: number, limit: number, out: number): number;
  join(pos: number, length: number, limit: number, out: number): number;
}

const PAGE_BYTES = 65_536;
/** Keeps `pos + limit` inside an i32 in the scanner. */
const LIMIT_CAP = 0x3fff_ffff;

/** A run of token events joined: their texts (escapes resolved), how many, where the run stopped. */
export interface JoinedRun {
  count: number;
  text: string;
  end: number;
}

/**
 * The token events of one ASCII read, found by a WebAssembly loop (token-run-scanner.wat)
 * instead of one `indexOf` and one `slice` per token: on a 200,000-token reply that
 * per-token call was most of the decoder's time. Offsets are the read's byte offsets,
 * which are also its text's character offsets since the read is ASCII.
 *
 * One per process (`TokenRunScanner.shared()`): decoders use it synchronously, one read
 * at a time, so they never see each other's state.
 */
export class TokenRunScanner {
  readonly #exports: ScannerExports;
  #bytes: Uint8Array;
  /** The same memory as i32 words: the offsets `tokens` writes. */
  #words: Int32Array;
  #length = 0;
  /** Where the scanner writes: after the read, 8-byte aligned. */
  #out = 0;

  private constructor(exports: ScannerExports) {
    this.#exports = exports;
    this.#bytes = new Uint8Array(exports.memory.buffer);
    this.#words = new Int32Array(exports.memory.buffer);
  }

  /** The process's scanner, or undefined where WebAssembly is not available (`node --jitless`). */
  static shared(): TokenRunScanner | undefined {
    if (shared === undefined) {
      try {
        const module = new WebAssembly.Module(Buffer.from(TOKEN_RUN_SCANNER_WASM, "base64"));
        shared = new TokenRunScanner(new WebAssembly.Instance(module).exports as unknown as ScannerExports);
      } catch {
        shared = null;
      }
    }
    return shared ?? undefined;
  }

  /** Copy a read in (it must be ASCII); the scans below are over it until the next load. */
  load(read: Uint8Array): void {
    const out = (read.length + 7) & ~7;
    // `join` writes at most two bytes per byte read; `tokens` 8 bytes per 45-byte event.
    const needed = out + 2 * read.length + 8;
    const memory = this.#exports.memory;
    if (needed > memory.buffer.byteLength) {
      memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE_BYTES));
      this.#bytes = new Uint8Array(memory.buffer);
      this.#words = new Int32Array(memory.buffer);
    }
    this.#bytes.set(read);
    this.#length = read.length;
    this.#out = out;
  }

  /**
   * The run of token events at `at`, lines at most `maxLineLength` long: returns how
   * many; their text bounds are `offsets[first + 2k]` and `offsets[first + 2k + 1]`, the end
   * negative (bit 31 set) when the text holds escapes. The run ends at `end()`.
   */
  tokens(at: number, maxLineLength: number): number {
    return this.#exports.tokens(at, this.#length, Math.min(maxLineLength, LIMIT_CAP), this.#out);
  }

  /** The offsets `tokens` wrote, as i32 words. */
  get offsets(): Int32Array {
    return this.#words;
  }

  /** The word index of the first offset `tokens` wrote. */
  get first(): number {
    return this.#out >> 2;
  }

  /** Where the last scan stopped: the first byte of the first event it did not take. */
  end(): number {
    return this.#exports.end.value as number;
  }

  /** The run of token events at `at`, their texts joined into one string (the scanner resolves the escapes). */
  join(at: number, maxLineLength: number): JoinedRun {
    const count = this.#exports.join(at, this.#length, Math.min(maxLineLength, LIMIT_CAP), this.#out);
    const written = this.#exports.written.value as number;
    const text = count === 0 ? "" : Buffer.from(this.#bytes.buffer, this.#out, written - this.#out).toString("utf16le");
    return { count, text, end: this.end() };
  }
}

let shared: TokenRunScanner | null | undefined;
