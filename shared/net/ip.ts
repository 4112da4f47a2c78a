/**
 * Printing IP addresses, shared by the macaroon caveats (shared/credentials/ip.ts, Go's
 * `net.IP.String`) and the SCB peer addresses (shared/scb/wireaddr.ts, CLN's
 * `fmt_wireaddr` via inet_ntop). They differ only in how an IPv4-mapped IPv6 address is
 * printed, so that choice stays with the caller. Platform-free.
 */

/** The first 12 bytes of an IPv4-mapped IPv6 address, ::ffff:0:0/96 (RFC 4291 §2.5.5.2). */
export const V4_MAPPED_PREFIX: readonly number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Whether 16 bytes are an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export const isV4Mapped = (b: Uint8Array): boolean => V4_MAPPED_PREFIX.every((x, i) => b[i] === x);

/** Dotted decimal of 4 bytes ("192.0.2.1"). */
export const formatIpv4 = (b4: Uint8Array): string => Array.from(b4).join('.');

/**
 * IPv6 text of 16 bytes per RFC 5952 §4: lower-case hex groups without leading zeros,
 * the longest run of two or more zero groups (the first one on a tie) written "::".
 * No dotted IPv4 tail: IPv4-mapped addresses are the caller's choice.
 */
export function formatIpv6Groups(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
