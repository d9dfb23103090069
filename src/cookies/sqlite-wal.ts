/**
 * Folds an SQLite write-ahead log into its database image, as SQLite does when it
 * reads: a running Firefox keeps its newest cookies in cookies.sqlite-wal only, and
 * sql.js cannot open a -wal file itself. Format: https://www.sqlite.org/fileformat.html#the_write_ahead_log
 */

const WAL_HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
const MAGIC_LITTLE_ENDIAN_CHECKSUMS = 0x377f0682;
const MAGIC_BIG_ENDIAN_CHECKSUMS = 0x377f0683;

/**
 * The database as it stands after the log's last committed transaction. Frames
 * after it, frames of an older log generation (other salts) and torn frames (bad
 * checksum) are ignored, as SQLite ignores them. The result is marked as a
 * rollback-journal database so that it opens without a log.
 */
export function applyWal(database: Uint8Array, wal: Uint8Array): Uint8Array {
  const committed = committedPages(wal);
  let image = database;
  if (committed) {
    const { pageSize, pages, pageCount } = committed;
    image = new Uint8Array(pageCount * pageSize);
    image.set(database.subarray(0, Math.min(database.length, image.length)));
    for (const [pageNumber, page] of pages) {
      if (pageNumber <= pageCount) image.set(page, (pageNumber - 1) * pageSize);
    }
  }
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) {
    if (image === database) image = database.slice();
    // File format write/read versions: 2 = WAL, 1 = rollback journal.
    image[18] = 1;
    image[19] = 1;
  }
  return image;
}

interface CommittedPages {
  pageSize: number;
  pageCount: number;
  pages: Map<number, Uint8Array>;
}

function committedPages(wal: Uint8Array): CommittedPages | null {
  if (wal.length < WAL_HEADER_BYTES) return null;
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const magic = view.getUint32(0);
  if (magic !== MAGIC_LITTLE_ENDIAN_CHECKSUMS && magic !== MAGIC_BIG_ENDIAN_CHECKSUMS) return null;
  const bigEndian = magic === MAGIC_BIG_ENDIAN_CHECKSUMS;
  const rawPageSize = view.getUint32(8);
  // 65536 is stored as 1.
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return null;
  const salt1 = view.getUint32(16);
  const salt2 = view.getUint32(20);
  let checksum = walChecksum(wal, 0, 24, [0, 0], bigEndian);
  if (checksum[0] !== view.getUint32(24) || checksum[1] !== view.getUint32(28)) return null;

  const pending = new Map<number, Uint8Array>();
  const pages = new Map<number, Uint8Array>();
  let pageCount = 0;
  for (let offset = WAL_HEADER_BYTES; offset + FRAME_HEADER_BYTES + pageSize <= wal.length; offset += FRAME_HEADER_BYTES + pageSize) {
    if (view.getUint32(offset + 8) !== salt1 || view.getUint32(offset + 12) !== salt2) break;
    checksum = walChecksum(wal, offset, 8, checksum, bigEndian);
    checksum = walChecksum(wal, offset + FRAME_HEADER_BYTES, pageSize, checksum, bigEndian);
    if (checksum[0] !== view.getUint32(offset + 16) || checksum[1] !== view.getUint32(offset + 20)) break;
    const pageNumber = view.getUint32(offset);
    pending.set(pageNumber, wal.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + pageSize));
    const sizeAfterCommit = view.getUint32(offset + 4);
    if (sizeAfterCommit > 0) {
      for (const [number, page] of pending) pages.set(number, page);
      pending.clear();
      pageCount = sizeAfterCommit;
    }
  }
  return pageCount > 0 ? { pageSize, pageCount, pages } : null;
}

/** SQLite's WAL checksum: Fletcher-like over 32-bit words, continuing from `[s0, s1]`. */
function walChecksum(bytes: Uint8Array, offset: number, length: number, [s0, s1]: [number, number], bigEndian: boolean): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
  const littleEndian = !bigEndian;
  for (let i = 0; i < length; i += 8) {
    s0 = (s0 + view.getUint32(i, littleEndian) + s1) >>> 0;
    s1 = (s1 + view.getUint32(i + 4, littleEndian) + s0) >>> 0;
  }
  return [s0, s1];
}
