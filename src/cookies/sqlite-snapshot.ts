/**
 * Reads a browser's SQLite database without native modules (sql.js) and without
 * touching the original: the file and its -wal are copied into memory, so a running
 * browser's lock does not stop us, and no copy of the cookies is left on disk.
 */
import { readFile } from "node:fs/promises";
import type { Database, SqlJsStatic, SqlValue } from "sql.js";
import { isErrnoCode } from "./errno.js";
import { applyWal } from "./sqlite-wal.js";

export type SqliteRow = Record<string, SqlValue>;

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Runs `use` on an in-memory snapshot of the database at `path` (and its -wal, if any); always closes it. */
export async function withSqliteSnapshot<T>(path: string, use: (query: (sql: string, params?: SqlValue[]) => SqliteRow[]) => T): Promise<T> {
  // The log first: should the browser checkpoint between the two reads, the database then already holds what the log held.
  const wal = await readOptional(`${path}-wal`);
  const image = await readFile(path);
  // Loaded on first use: most runs never open a browser database, and sql.js takes tens of ms to load.
  sqlJs ??= import("sql.js").then(({ default: initSqlJs }) => initSqlJs());
  const SQL = await sqlJs;
  const db: Database = new SQL.Database(wal ? applyWal(image, wal) : image);
  try {
    return use((sql, params = []) => {
      const statement = db.prepare(sql, params);
      try {
        const rows: SqliteRow[] = [];
        while (statement.step()) rows.push(statement.getAsObject());
        return rows;
      } finally {
        statement.free();
      }
    });
  } finally {
    db.close();
  }
}

async function readOptional(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isErrnoCode(error, "ENOENT")) return null;
    throw error;
  }
}

export function textOf(value: SqlValue | undefined): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return value === null || value === undefined ? "" : String(value);
}

export function numberOf(value: SqlValue | undefined): number {
  return typeof value === "number" ? value : Number(value ?? 0);
}

export function bytesOf(value: SqlValue | undefined): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array(0);
}
