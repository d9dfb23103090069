import { BlockList, isIP } from "node:net";

const LOOPBACK_ADDRESSES = new BlockList();
LOOPBACK_ADDRESSES.addSubnet("127.0.0.0", 8, "ipv4");
// IPv4-mapped addresses (::ffff:127.0.0.1) are checked against the IPv4 rule.
LOOPBACK_ADDRESSES.addAddress("::1", "ipv6");

/**
 * A host only this machine can reach: `localhost` and its subdomains (RFC 6761), 127.0.0.0/8
 * and ::1 in any spelling, IPv6 with or without brackets (a flag's `::1`, a URL's `[::1]`).
 * Browsers count these hosts as secure contexts (W3C Secure Contexts, "potentially trustworthy"),
 * except 127.x written as an IPv4-mapped IPv6 address, which reaches this machine all the same.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  const family = isIP(bare);
  return family !== 0 && LOOPBACK_ADDRESSES.check(bare, family === 6 ? "ipv6" : "ipv4");
}
