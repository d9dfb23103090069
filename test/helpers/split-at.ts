/** Cut `data` at the given points (taken modulo its length + 1, duplicates ignored): chunk boundaries for property tests. */
export function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let last = 0;
  for (const point of points) {
    parts.push(data.subarray(last, point));
    last = point;
  }
  parts.push(data.subarray(last));
  return parts;
}
