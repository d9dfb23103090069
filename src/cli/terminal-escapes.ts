/**
 * Server text made safe for a terminal: every control sequence and control character
 * (ECMA-48) is removed, so a reply or an error message cannot retitle the window, clear
 * the screen, move the cursor, or talk to the terminal (OSC 52 clipboard writes, DCS
 * queries). What is left holds no character below U+0020 other than `\n` and `\t`, and
 * none from U+007F to U+009F. The Unicode bidirectional embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069) go too: on a terminal that reorders text by them, a reply
 * or message could show its characters in another order than they are (Trojan Source).
 *
 * Removed: CSI (`ESC [` or U+009B, parameters, intermediates, a final byte); OSC (`ESC ]`
 * or U+009D) up to BEL or ST (`ESC \` or U+009C); DCS, SOS, PM and APC strings (`ESC P`,
 * `ESC X`, `ESC ^`, `ESC _` or U+0090, U+0098, U+009E, U+009F) up to ST or BEL; other
 * escape sequences (`ESC`, intermediates, a final byte: `ESC c` resets the terminal);
 * the other C1 and C0 controls and DEL. CAN and SUB cancel a sequence, as terminals do.
 * A string never terminated runs to the end of the text, as on a terminal: its content
 * is not shown. A sequence cut short by another character ends there; that character is
 * read as text.
 *
 * A lone `\r` moves the cursor back over what was printed, so text after it can hide or
 * fake what came before: `\r\n` becomes `\n`, any other `\r` a line break too (its text
 * stays visible), and one at the very end is dropped.
 */

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const DEL = 0x7f;
const C1_ST = 0x9c;
/** The C1 controls that open a CSI, an OSC, or a DCS/SOS/PM/APC string. */
const C1_CSI = 0x9b;
const C1_STRINGS = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]);
/** After ESC: `[` opens a CSI; `]`, `P`, `X`, `^` and `_` open a string. */
const ESC_CSI = 0x5b;
const ESC_STRINGS = new Set([0x5d, 0x50, 0x58, 0x5e, 0x5f]);
const BACKSLASH = 0x5c;

type State = "text" | "escape" | "escapeIntermediate" | "csi" | "string" | "stringEscape";

// A control character (Cc: C0, DEL, C1) other than \n and \t, or a bidi control; without one, as in most replies, there is nothing to remove.
const NEEDS_WORK = /(?![\n\t])\p{Cc}|[\u202a-\u202e\u2066-\u2069]/u;

function isBidiControl(code: number): boolean {
  return (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/**
 * Strips text that arrives in pieces (a streamed reply): a sequence split between two
 * pieces is removed whole. `push` returns what may be written now.
 */
export class TerminalTextFilter {
  #state: State = "text";
  /** A `\r` not yet followed by anything visible. */
  #pendingReturn = false;

  push(text: string): string {
    if (this.#state === "text" && !this.#pendingReturn && !NEEDS_WORK.test(text)) return text;
    let out = "";
    for (const char of text) {
      const code = char.codePointAt(0) ?? 0;
      if (this.#state !== "text" && this.#inSequence(code)) continue;
      // Text: outside any sequence, or a character that ended one without belonging to it.
      if (code === ESC) this.#state = "escape";
      else if (code === C1_CSI) this.#state = "csi";
      else if (C1_STRINGS.has(code)) this.#state = "string";
      else if (code === 0x0d) this.#pendingReturn = true;
      else if (code === 0x0a) {
        out += "\n";
        this.#pendingReturn = false;
      } else if (code === 0x09 || (code >= 0x20 && code < DEL) || (code > 0x9f && !isBidiControl(code))) {
        out += this.#pendingReturn ? `\n${char}` : char;
        this.#pendingReturn = false;
      }
    }
    return out;
  }

  /** Inside a sequence: true when `code` belongs to it (and is dropped); false when it ends the sequence without belonging to it. */
  #inSequence(code: number): boolean {
    if (code === CAN || code === SUB) {
      this.#state = "text";
      return true;
    }
    switch (this.#state) {
      case "escape":
        if (code === ESC_CSI) this.#state = "csi";
        else if (ESC_STRINGS.has(code)) this.#state = "string";
        else if (code === ESC) this.#state = "escape";
        else return this.#escapeByte(code);
        return true;
      case "escapeIntermediate":
        if (code === ESC) {
          this.#state = "escape";
          return true;
        }
        return this.#escapeByte(code);
      case "csi":
        if (code >= 0x20 && code <= 0x3f) return true;
        if (code >= 0x40 && code <= 0x7e) {
          this.#state = "text";
          return true;
        }
        return this.#abandon();
      case "string":
        if (code === BEL || code === C1_ST) this.#state = "text";
        else if (code === ESC) this.#state = "stringEscape";
        return true;
      case "stringEscape":
        // `ESC \` is ST; an ESC followed by anything else ends the string and starts a new sequence.
        if (code === BACKSLASH) {
          this.#state = "text";
          return true;
        }
        this.#state = "escape";
        return this.#inSequence(code);
      default:
        return false;
    }
  }

  /** After ESC and any intermediates: another intermediate keeps the sequence open, a final byte ends it. */
  #escapeByte(code: number): boolean {
    if (code >= 0x20 && code <= 0x2f) this.#state = "escapeIntermediate";
    else if (code >= 0x30 && code <= 0x7e) this.#state = "text";
    else return this.#abandon();
    return true;
  }

  #abandon(): false {
    this.#state = "text";
    return false;
  }
}

/** `text` without control sequences, bidi controls, nor control characters other than `\n` and `\t` (see the file's comment). */
export function stripTerminalEscapes(text: string): string {
  return new TerminalTextFilter().push(text);
}
