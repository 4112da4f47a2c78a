/**
 * BOLT 7 / CLN `wireaddr` (common/wireaddr.c fromwire_wireaddr, towire_wireaddr; cln-facts.md §6):
 *
 *   u8 type || addr || u16 port      type 1 ipv4 (4 B), 2 ipv6 (16 B), 3 torv2 (10 B, removed from BOLT 7),
 *                                    4 torv3 (35 B), 5 dns (u8 len || hostname)
 *
 * Plus the printable forms CLN uses (fmt_wireaddr): "1.2.3.4:9735",
 * "[2001:db8::1]:9735", "<base32>.onion:9735", "host.example:9735", and a parser
 * for them (the `peers.address` column of lightningd.sqlite3 stores that text).
 */
import { base32 } from '@scure/base';
import { CldcbError } from '../errors';
import { type ByteReader, concatBytes, u16be, utf8 } from '../bytes';
import { formatIpv4, formatIpv6Groups, isV4Mapped } from '../net/ip';

export type WireAddrType = 'ipv4' | 'ipv6' | 'torv2' | 'torv3' | 'dns';

export interface WireAddr {
  readonly type: WireAddrType;
  /** The address bytes (for dns: the hostname bytes, at most 255). */
  readonly addr: Uint8Array;
  readonly port: number;
}

const TYPE_CODES: Record<WireAddrType, number> = { ipv4: 1, ipv6: 2, torv2: 3, torv3: 4, dns: 5 };
const FIXED_LEN: Partial<Record<WireAddrType, number>> = { ipv4: 4, ipv6: 16, torv2: 10, torv3: 35 };

/**
 * Read one wireaddr.
 * @param field names the place in error messages, e.g. "channel 2 (dbid 7): peer address".
 * @throws CldcbError truncated, or unsupported for an unknown address type (its length cannot be known).
 */
export function readWireAddr(r: ByteReader, field: string): WireAddr {
  const code = r.u8(`${field} type`);
  let type: WireAddrType;
  let len: number;
  switch (code) {
    case 1:
      type = 'ipv4';
      len = 4;
      break;
    case 2:
      type = 'ipv6';
      len = 16;
      break;
    case 3:
      type = 'torv2';
      len = 10;
      break;
    case 4:
      type = 'torv3';
      len = 35;
      break;
    case 5:
      type = 'dns';
      len = r.u8(`${field} hostname length`);
      break;
    default:
      throw new CldcbError('unsupported', `${r.what}: ${field} has unknown address type ${code} at byte ${r.offset - 1}; this version cannot read past it.`);
  }
  const addr = r.bytesN(len, `${field} (${type})`).slice();
  const port = r.u16(`${field} port`);
  return { type, addr, port };
}

/**
 * Serialise a wireaddr (towire_wireaddr).
 * @throws CldcbError bad_length when the address bytes do not fit the type.
 */
export function encodeWireAddr(a: WireAddr): Uint8Array {
  const fixed = FIXED_LEN[a.type];
  if (fixed !== undefined && a.addr.length !== fixed)
    throw new CldcbError('bad_length', `address: a ${a.type} address has ${fixed} bytes, got ${a.addr.length}.`);
  if (a.type === 'dns' && a.addr.length > 255) throw new CldcbError('bad_length', 'address: a hostname has at most 255 bytes.');
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new CldcbError('bad_input', `address: port ${a.port} is out of range.`);
  const head = a.type === 'dns' ? new Uint8Array([TYPE_CODES.dns, a.addr.length]) : new Uint8Array([TYPE_CODES[a.type]]);
  return concatBytes(head, a.addr, u16be(a.port));
}

/** IPv6 as inet_ntop prints it: IPv4-mapped as ::ffff:a.b.c.d, the rest per RFC 5952. */
function formatIpv6(b: Uint8Array): string {
  return isV4Mapped(b) ? `::ffff:${formatIpv4(b.subarray(12))}` : formatIpv6Groups(b);
}

/** The hostname as text: printable ASCII as is, anything else as \xNN (hostile input stays readable). */
function formatHostname(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c > 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}

/** The host part without the port, as CLN prints it. */
export function formatWireAddrHost(a: WireAddr): string {
  switch (a.type) {
    case 'ipv4':
      return formatIpv4(a.addr);
    case 'ipv6':
      return `[${formatIpv6(a.addr)}]`;
    case 'torv2':
    case 'torv3':
      return `${base32.encode(a.addr).replace(/=+$/, '').toLowerCase()}.onion`;
    case 'dns':
      return formatHostname(a.addr);
  }
}

/** "host:port" as CLN's fmt_wireaddr prints it. */
export function formatWireAddr(a: WireAddr): string {
  return `${formatWireAddrHost(a)}:${a.port}`;
}

function parseIpv4(s: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return new Uint8Array(parts);
}

function parseIpv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const toGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseIpv4(it);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return null;
        out.push(parseInt(it, 16));
      }
    }
    return out;
  };
  const head = toGroups(halves[0]!);
  const tail = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !tail) return null;
  let groups: number[];
  if (halves.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else groups = head;
  if (groups.length !== 8) return null;
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 255;
  });
  return b;
}

/**
 * Parse CLN's printable "host:port" back into a wireaddr (ipv4, [ipv6], .onion, hostname).
 * @returns null for anything that is not an internet address with a port (e.g. a unix socket path).
 */
export function parseWireAddrText(text: string): WireAddr | null {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const host = m[1]!;
  const port = Number(m[2]);
  if (port > 65535) return null;
  if (host.startsWith('[')) {
    const b = parseIpv6(host.slice(1, -1));
    return b ? { type: 'ipv6', addr: b, port } : null;
  }
  const v4 = parseIpv4(host);
  if (v4) return { type: 'ipv4', addr: v4, port };
  const onion = /^([a-z2-7]{16}|[a-z2-7]{56})\.onion$/i.exec(host);
  if (onion) {
    try {
      const b = base32.decode(onion[1]!.toUpperCase());
      return { type: b.length === 35 ? 'torv3' : 'torv2', addr: b, port };
    } catch {
      return null;
    }
  }
  const bytes = utf8(host);
  if (bytes.length === 0 || bytes.length > 255) return null;
  return { type: 'dns', addr: bytes, port };
}
