import { randomBytes } from "node:crypto";

/**
 * UUIDv7 ids (RFC 9562): 48-bit millisecond time, then a 12-bit counter in `rand_a` so
 * that ids made in the same millisecond still sort in creation order. Sorting ids as
 * strings therefore sorts chats by age, which the list cursors rely on.
 */
let lastMillis = 0;
let counter = 0;

export function uuid7(): string {
  let millis = Date.now();
  if (millis <= lastMillis) {
    counter++;
    if (counter > 0xfff) {
      lastMillis++;
      counter = 0;
    }
    millis = lastMillis;
  } else {
    lastMillis = millis;
    counter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(millis, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
