import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
/** A turn is held from posting a reply to its first token; one held longer is a crashed holder's. */
const STALE_MS = 10 * 60_000;
/** A lock file without a pid yet is being written; one still without it after this is a crashed writer's. */
const UNWRITTEN_STALE_MS = 5_000;

/**
 * One account's turn across processes: a lock file that holds the owner's pid. Several
 * `oasst chat` runs on one account would otherwise cancel each other's queued replies
 * on a real Open-Assistant server. A lock whose process is gone, or older than ten
 * minutes, is taken over.
 */
export class FileTurnLock {
  constructor(private readonly path: string) {}

  /** The release, when this process now holds the lock; undefined while another live process does. */
  tryAcquire(): (() => void) | undefined {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.#tryCreate()) return () => this.#release();
      if (!this.#stale()) return undefined;
      this.#remove();
    }
    return undefined;
  }

  #tryCreate(): boolean {
    try {
      const fd = openSync(this.path, "wx", 0o600);
      writeSync(fd, `${process.pid} ${Date.now()}\n`);
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    }
  }

  #stale(): boolean {
    let pid: number;
    let age: number;
    try {
      age = Date.now() - statSync(this.path).mtimeMs;
      pid = Number(readFileSync(this.path, "utf8").trim().split(" ")[0]);
    } catch {
      return false; // just released: look again
    }
    if (age > STALE_MS) return true;
    if (!Number.isInteger(pid) || pid <= 0) return age > UNWRITTEN_STALE_MS;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  }

  #release(): void {
    try {
      const [pid] = readFileSync(this.path, "utf8").trim().split(" ").map(Number);
      if (pid === process.pid) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  #remove(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // Another waiter took it over first.
    }
  }
}
