import type { Palette } from "./terminal.js";
import { stripTerminalEscapes } from "./terminal-escapes.js";

/**
 * Columns padded to their widest cell; the header in bold; the last column is not padded.
 * Cells hold server text (model descriptions, chat titles): a table is for people, so
 * they lose their control sequences (--json has them as sent).
 */
export function formatTable(headers: readonly string[], cellRows: ReadonlyArray<readonly string[]>, colors: Palette): string {
  const rows = cellRows.map((row) => row.map(stripTerminalEscapes));
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [colors.bold(line(headers)), ...rows.map(line)].join("\n") + "\n";
}
