/**
 * Deterministic replies: the prompter message's text seeds a small PRNG that picks words
 * from a fixed list. The list mixes ASCII, Latin-1 accents, CJK, an astral emoji and the
 * two characters JSON must escape (`"` and `\`), so every reply exercises the escapes.
 */

export const REPLY_WORDS: readonly string[] = [
  "Hello",
  "world",
  "wörld",
  "café",
  "naïve",
  "🙂",
  "日本語",
  "the",
  "a",
  "model",
  "answer",
  "is",
  "here.",
  "Sure,",
  "really?",
  "yes!",
  "stream",
  "token",
  "open",
  "assistant",
  "(beta)",
  '"quoted"',
  "back\\slash",
  "über",
  "déjà",
  "vu",
  "42",
  "—",
  "and",
  "of",
  "to",
  "in",
];

/** FNV-1a over the UTF-16 units of the prompt. */
function hashPrompt(prompt: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < prompt.length; i++) {
    hash = Math.imul(hash ^ prompt.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

/** The text of a token: its word, with a leading space except at position 0. */
export function tokenText(wordIndex: number, position: number): string {
  const word = REPLY_WORDS[wordIndex] ?? "";
  return position === 0 ? word : ` ${word}`;
}

/** An endless token sequence for one prompt; `replyTokens(prompt, n)` is its first n tokens. */
export class ReplyTokenSource {
  private state: number;
  private produced = 0;

  constructor(prompt: string) {
    this.state = hashPrompt(prompt);
  }

  /** mulberry32: the REPLY_WORDS index of the next token's word. */
  nextWordIndex(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % REPLY_WORDS.length;
  }

  next(): string {
    return tokenText(this.nextWordIndex(), this.produced++);
  }
}

/** The deterministic token texts the emulator streams for this prompter-message content. */
export function replyTokens(prompt: string, count: number): string[] {
  const source = new ReplyTokenSource(prompt);
  const tokens = new Array<string>(Math.max(0, count));
  for (let i = 0; i < tokens.length; i++) tokens[i] = source.next();
  return tokens;
}
