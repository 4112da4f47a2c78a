/**
 * IP addresses and ranges as Go's `net` package handles them, because LND's
 * macaroon caveats are written and checked with it (lnd macaroons/constraints.go:
 * `ipaddr` uses net.ParseIP / IP.String / IP.Equal, `iprange` uses net.ParseCIDR /
 * IPNet.String / IPNet.Contains). Platform-free (no node:net).
 *
 * Go rules mirrored here:
 *  - IPv4 is exactly four decimal fields 0..255 without leading zeros (Go ≥ 1.17).
 *  - IPv6 has hex groups of 1..4 digits, at most one "::", optionally a dotted IPv4 tail; no zone.
 *  - String(): IPv4 and IPv4-mapped IPv6 print dotted; other IPv6 per RFC 5952 (lower case, the
 *    longest run of two or more zero groups, leftmost on a tie, becomes "::").
 *  - An IPv4 address equals its IPv4-mapped IPv6 form.
 */
import { formatIpv4, formatIpv6Groups, isV4Mapped, V4_MAPPED_PREFIX } from '../net/ip';

/** 16 bytes (IPv4 addresses are stored IPv4-mapped) and whether the text was IPv4. */
export interface ParsedIp {
  readonly bytes: Uint8Array;
  readonly v4: boolean;
}

function parseV4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out.push(v);
  }
  return out;
}

function parseV6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseSide = (side: string, allowV4Tail: boolean): number[] | undefined => {
    if (side === '') return [];
    const groups = side.split(':');
    const bytes: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (!v4) return undefined;
        bytes.push(...v4);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        const v = parseInt(g, 16);
        bytes.push(v >> 8, v & 255);
      }
    }
    return bytes;
  };
  if (dbl < 0) {
    const all = parseSide(s, true);
    if (!all || all.length !== 16) return undefined;
    out.set(all);
    return out;
  }
  const left = parseSide(s.slice(0, dbl), false);
  const right = parseSide(s.slice(dbl + 2), true);
  if (!left || !right || left.length + right.length > 14) return undefined;
  out.set(left, 0);
  out.set(right, 16 - right.length);
  return out;
}

/** Go net.ParseIP: undefined when the text is not an IP address. */
export function parseIp(text: string): ParsedIp | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  const v4 = parseV4(text);
  if (v4) return { bytes: new Uint8Array([...V4_MAPPED_PREFIX, ...v4]), v4: true };
  if (!text.includes(':')) return undefined;
  const v6 = parseV6(text);
  return v6 ? { bytes: v6, v4: false } : undefined;
}

/** Go IP.String() of a 16-byte address: IPv4-mapped prints dotted, other IPv6 per RFC 5952. */
export function formatIp(bytes: Uint8Array): string {
  return isV4Mapped(bytes) ? formatIpv4(bytes.subarray(12)) : formatIpv6Groups(bytes);
}

/** Go IP.Equal: IPv4 equals its IPv4-mapped form (both are stored mapped here). */
export function ipEqual(a: ParsedIp, b: ParsedIp): boolean {
  for (let i = 0; i < 16; i++) if (a.bytes[i] !== b.bytes[i]) return false;
  return true;
}

/** A parsed network: the masked address (16 bytes), the prefix length over 128 bits, and whether it is IPv4. */
export interface ParsedCidr {
  readonly network: Uint8Array;
  readonly prefix128: number;
  /** Go stores it as a 4-byte network (an IPv4 literal, or IPv4-mapped with prefix ≥ 96). */
  readonly v4: boolean;
}

/** Go net.ParseCIDR: undefined when the text is not `address/prefix`. */
export function parseCidr(text: string): ParsedCidr | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const p = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(p)) return undefined;
  const bits = ip.v4 ? 32 : 128;
  const n = Number(p);
  if (n > bits) return undefined;
  const prefix128 = ip.v4 ? n + 96 : n;
  const network = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, prefix128 - 8 * i));
    network[i] = ip.bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  // Go's Mask keeps the 0xffff of an IPv4 literal (the mask is 4 bytes long).
  if (ip.v4) network.set(V4_MAPPED_PREFIX, 0);
  return { network, prefix128, v4: ip.v4 || (isV4Mapped(network) && prefix128 >= 96) };
}

/** Go IPNet.String(). */
export function formatCidr(c: ParsedCidr): string {
  return c.v4 ? `${formatIp(c.network)}/${c.prefix128 - 96}` : `${formatIp(c.network)}/${c.prefix128}`;
}

/** Go IPNet.Contains: an IPv4 client only matches an IPv4 network and vice versa. */
export function cidrContains(c: ParsedCidr, ip: ParsedIp): boolean {
  const clientV4 = isV4Mapped(ip.bytes);
  if (clientV4 !== c.v4) return false;
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, c.prefix128 - 8 * i));
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((ip.bytes[i]! & mask) !== (c.network[i]! & mask)) return false;
  }
  return true;
}
