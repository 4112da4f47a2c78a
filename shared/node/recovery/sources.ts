/**
 * Where the entries come from (cldcb-protocol §1.4, §3.3):
 *  - a copy of a server directory (ours or the original's): `recognition_codes`, `clients`,
 *    `<cid>.arch`, `server_id` / `secret`;
 *  - one `.arch` file, with a recognition-codes file or without;
 *  - a live server (online only): its recognition records (2 → 4…/6) and downloads (112…122)
 *    written to a scratch `.arch` file, so online and offline recovery share one path.
 *
 * The original server loses recognition codes at restart (its bug 2, §4, §8.2): a dead
 * node's code is typically *missing* from `recognition_codes` — exactly the case recovery
 * needs. So archives are also recognised directly: the first box of an archive is
 * `E ‖ sig_client(H(E)) ‖ AEAD_{SHA256(e·NODE)}(cpk ‖ dv)`. It is ours iff the signature
 * verifies for the client id in the file name, the box opens with our node key (ECDH +
 * tag), and the cpk inside is that client id's private key. One ECDH and one verify per
 * archive, reading 149 bytes (`probeArchive`).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, writeSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { CldcbError } from '../../errors';
import { hexToBytes, zeroize } from '../../bytes';
import { ArchReader, encodeFooter, type ArchEvent } from '../../cldcb/arch';
import { isValidPrivateKey } from '../../cldcb/curve';
import { formatClientId, formatServerId, parseOptFile, parseServerId } from '../../cldcb/ids';
import { RECOGNITION_RECORD_SIZE } from '../../cldcb/messages';
import { ReuploadOpener } from '../../cldcb/plaintexts';
import { nativeBoxCrypto } from '../nativeSeal';
import { openRegularFile, readSmallBytes, readSmallText, regularFileProblem } from './untrustedFiles';

const ARCH_NAME_RE = /^c([23][0-9a-f]{64})\.arch$/i;
const LINE_RE = /^(0[23][0-9a-fA-F]{64})\s+([0-9a-fA-F]{128})$/;

export interface Malformed {
  readonly line: number;
  readonly reason: string;
}

export interface RecordSet {
  /** n × 97 bytes: cid33 ‖ code64. */
  readonly records: Uint8Array;
  readonly count: number;
  /** File line number of each record (1-based), when read from a file. */
  readonly lines?: Uint32Array;
  /** Lines that do not parse (details for the first 1,000). */
  readonly malformed: Malformed[];
  readonly malformedCount: number;
  /** Reading stopped after this line: MAX_CODES_RECORDS records were read. */
  readonly truncatedAt?: number;
}

/** Grow-able record buffer. */
class RecordBuilder {
  private buf = new Uint8Array(RECOGNITION_RECORD_SIZE * 1024);
  private lines = new Uint32Array(1024);
  count = 0;

  add(record: Uint8Array | Buffer, line: number): void {
    if ((this.count + 1) * RECOGNITION_RECORD_SIZE > this.buf.length) {
      const b = new Uint8Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
      const l = new Uint32Array(this.lines.length * 2);
      l.set(this.lines);
      this.lines = l;
    }
    this.buf.set(record, this.count * RECOGNITION_RECORD_SIZE);
    this.lines[this.count] = line;
    this.count++;
  }

  addHex(cidHex: string, codeHex: string, line: number): void {
    const o = this.count;
    this.add(new Uint8Array(RECOGNITION_RECORD_SIZE), line);
    const b = Buffer.from(this.buf.buffer, this.buf.byteOffset + o * RECOGNITION_RECORD_SIZE, RECOGNITION_RECORD_SIZE);
    b.write(cidHex, 0, 'hex');
    b.write(codeHex, 33, 'hex');
  }

  finish(): { records: Uint8Array; lines: Uint32Array } {
    return { records: this.buf.slice(0, this.count * RECOGNITION_RECORD_SIZE), lines: this.lines.slice(0, this.count) };
  }
}

/** A recognition_codes line is 66 + 1 + 128 characters; longer lines are not records (issue 14 #5). */
export const MAX_CODES_LINE = 1024;
/**
 * Records read from one recognition_codes file at most (~194 MB of records). A larger file is
 * cut there with a note: archives without a checked code are still opened with the node key.
 */
export const MAX_CODES_RECORDS = 2_000_000;

/**
 * Parse a `recognition_codes` file (`<02/03 cid hex> <128 hex code>` per line), streaming,
 * tolerant: a line that does not parse is reported (as an invalid entry) and the others
 * are kept — a damaged line must not hide our own code. Bounded (issue 14 #5): a line longer
 * than MAX_CODES_LINE is skipped to its end without being kept in memory, and reading stops
 * after MAX_CODES_RECORDS records (`truncatedAt` says so).
 * @throws CldcbError file_not_found, bad_input (not a regular file: a FIFO never blocks), io_error.
 */
export function readRecognitionCodesFile(file: string): RecordSet {
  const { fd } = openRegularFile(file);
  const rb = new RecordBuilder();
  const malformed: Malformed[] = [];
  let malformedCount = 0;
  let lineNo = 0;
  const bad = (reason: string): void => {
    malformedCount++;
    if (malformed.length < 1000) malformed.push({ line: lineNo, reason });
  };
  const onLine = (raw: string): void => {
    const line = raw.trim();
    if (line.length === 0) return;
    const m = LINE_RE.exec(line);
    if (m) {
      rb.addHex(m[1]!, m[2]!, lineNo);
      return;
    }
    const tokens = line.split(/\s+/);
    bad(
      tokens.length !== 2
        ? `expected "<client key> <code>", got ${tokens.length} field(s)`
        : !/^0[23][0-9a-fA-F]{64}$/.test(tokens[0]!)
          ? 'the client key is not 66 hex digits starting 02 or 03'
          : 'the code is not 128 hex digits',
    );
  };
  let truncatedAt: number | undefined;
  try {
    const buf = Buffer.alloc(4 << 20);
    let pending = ''; // the start of the current line (≤ MAX_CODES_LINE)
    let tooLong = false; // the current line passed MAX_CODES_LINE: skipped to its newline
    read: for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      let at = 0;
      while (at < n) {
        const nl = buf.indexOf(10, at);
        const end = nl < 0 || nl >= n ? n : nl;
        if (!tooLong) {
          if (pending.length + (end - at) > MAX_CODES_LINE) {
            tooLong = true;
            pending = '';
          } else pending += buf.toString('latin1', at, end);
        }
        if (end === n) break; // the line goes on in the next block
        lineNo++;
        if (tooLong) bad(`longer than ${MAX_CODES_LINE} bytes: not a record`);
        else onLine(pending);
        pending = '';
        tooLong = false;
        at = end + 1;
        if (rb.count >= MAX_CODES_RECORDS) {
          truncatedAt = lineNo;
          break read;
        }
      }
    }
    if (truncatedAt === undefined && (pending.length > 0 || tooLong)) {
      lineNo++;
      if (tooLong) bad(`longer than ${MAX_CODES_LINE} bytes: not a record`);
      else onLine(pending);
    }
  } catch (e) {
    throw new CldcbError('io_error', `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
  } finally {
    closeSync(fd);
  }
  const { records, lines } = rb.finish();
  return { records, count: rb.count, lines, malformed, malformedCount, ...(truncatedAt !== undefined ? { truncatedAt } : {}) };
}

/** Records (from message 4) → a RecordSet. */
export function recordSetFrom(records: readonly { clientKey: Uint8Array; code: Uint8Array }[]): RecordSet {
  const out = new Uint8Array(records.length * RECOGNITION_RECORD_SIZE);
  records.forEach((r, i) => {
    out.set(r.clientKey, i * RECOGNITION_RECORD_SIZE);
    out.set(r.code, i * RECOGNITION_RECORD_SIZE + 33);
  });
  return { records: out, count: records.length, malformed: [], malformedCount: 0 };
}

export interface ServerDirListing {
  readonly dir: string;
  readonly codes: RecordSet;
  /** hex of the 02/03 client key → archive path. */
  readonly archives: Map<string, string>;
  /** Client ids from `clients` (c…, lowercase). */
  readonly clients: string[];
  readonly serverId?: string;
  /** The port our server last listened on (its `port` file), when the copy has one. */
  readonly port?: number;
  /** What our server's log (`debug.log`) says it last stored for each client (client id → record). */
  readonly logRecords?: Map<string, ServerLogRecord>;
  readonly notes: string[];
}

/**
 * Read a server directory copy.
 * @throws CldcbError file_not_found (no such directory), bad_input (not a server directory:
 *   neither recognition_codes nor any <cid>.arch), io_error.
 */
export function readServerDir(dir: string): ServerDirListing {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CldcbError('file_not_found', `${dir}: no such directory. Give the copy of the cldcb server's directory.`);
    if (code === 'ENOTDIR') throw new CldcbError('bad_input', `${dir} is a file, not a directory. For a single archive use the archive source.`);
    throw new CldcbError('io_error', `${dir}: cannot list it (${code ?? 'I/O error'}).`);
  }
  const names = entries.map((e) => e.name);
  const notes: string[] = [];
  const archives = new Map<string, string>();
  for (const e of entries) {
    const m = ARCH_NAME_RE.exec(e.name);
    if (!m) continue;
    const file = path.join(dir, e.name);
    archives.set(('0' + m[1]!).toLowerCase(), file);
    // A directory, FIFO or device is said here; the readers never open it (probeArchive opens
    // regular files only, search.ts refuses it as a candidate's archive: issue 14 #6, #9). A
    // symbolic link is followed (one stat).
    const problem = e.isFile() ? undefined : regularFileProblem(file);
    if (problem) notes.push(`${problem}: it cannot be an archive.`);
  }
  const codesFile = path.join(dir, 'recognition_codes');
  const hasCodes = names.includes('recognition_codes');
  if (!hasCodes && archives.size === 0)
    throw new CldcbError('bad_input', `${dir} holds neither recognition_codes nor any <client id>.arch: it is not a cldcb server directory.`);
  let codes: RecordSet = { records: new Uint8Array(0), count: 0, malformed: [], malformedCount: 0 };
  if (!hasCodes) notes.push('no recognition_codes file: every archive is opened with the node key instead.');
  else
    try {
      codes = readRecognitionCodesFile(codesFile);
      if (codes.malformedCount > 0)
        notes.push(`recognition_codes: ${codes.malformedCount} line(s) are not records (line ${codes.malformed[0]!.line}: ${codes.malformed[0]!.reason}); the others were checked.`);
      if (codes.truncatedAt !== undefined)
        notes.push(`recognition_codes holds more than ${MAX_CODES_RECORDS.toLocaleString('en')} records; only those up to line ${codes.truncatedAt} were checked, and archives without a checked code are opened with the node key instead.`);
    } catch (e) {
      // An auxiliary file: its loss costs the fast path, never the recovery (issue 14 #5).
      notes.push(`recognition_codes cannot be used (${e instanceof CldcbError ? e.message : 'I/O error'}); every archive is opened with the node key instead.`);
    }
  let clients: string[] = [];
  if (names.includes('clients')) {
    try {
      const { text, truncated } = readSmallText(path.join(dir, 'clients'), MAX_CLIENTS_BYTES);
      clients = text
        .split(/\s+/)
        .filter((s) => /^[cC][23][0-9a-fA-F]{64}$/.test(s))
        .map((s) => s.toLowerCase());
      if (truncated) notes.push(`the clients file is larger than ${MAX_CLIENTS_BYTES >> 20} MiB; only its start was read.`);
    } catch {
      notes.push('the clients file cannot be read; ignored.');
    }
  }
  const serverId = readServerIdFrom(dir, names);
  const port = names.includes('port') ? readPortFile(path.join(dir, 'port')) : undefined;
  const logRecords = names.includes(SERVER_LOG) ? readServerLog(path.join(dir, SERVER_LOG), notes) : undefined;
  return { dir, codes, archives, clients, ...(serverId ? { serverId } : {}), ...(port ? { port } : {}), ...(logRecords?.size ? { logRecords } : {}), notes };
}

/** Our server's log file in its directory (server/serverDir.ts DEFAULT_LOGFILE). */
export const SERVER_LOG = 'debug.log';
/** Only the end of the log is read: the last records are the ones that matter. */
export const SERVER_LOG_TAIL_BYTES = 16 << 20;

export interface ServerLogRecord {
  /** The data_version the server last acknowledged storing (appended, or re-uploaded) for the client. */
  readonly dataVersion: number;
  /** unix seconds of that log line. */
  readonly time?: number;
  readonly file: string;
}

/**
 * The server's own record of what it stored: our server logs every acknowledged increment
 * ("c…: dv N appended (…)") and re-upload ("c…: dv N re-uploaded (…)", server/session.ts) after
 * fsync and before the acknowledgement. A copy of the archive that ends before the last record
 * is incomplete (issue 14 #3). Reads the last 16 MiB only; a log that cannot be read is a note.
 */
function readServerLog(file: string, notes: string[]): Map<string, ServerLogRecord> | undefined {
  let text: string;
  try {
    text = readTail(file, SERVER_LOG_TAIL_BYTES);
  } catch (e) {
    notes.push(`${SERVER_LOG} cannot be read (${e instanceof CldcbError ? e.message : 'I/O error'}); ignored.`);
    return undefined;
  }
  const out = new Map<string, ServerLogRecord>();
  const re = /^(\S+)[^\n]*? (c[23][0-9a-f]{64}): dv (\d{1,10}) (?:appended|re-uploaded)\b/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const dv = Number(m[3]);
    if (dv > 0xffffffff) continue;
    const ms = Date.parse(m[1]!);
    out.set(m[2]!, { dataVersion: dv, ...(Number.isNaN(ms) ? {} : { time: Math.floor(ms / 1000) }), file });
  }
  return out;
}

/** The last `maxBytes` of a regular file as latin1 text (from the first whole line). */
function readTail(file: string, maxBytes: number): string {
  const { fd, size } = openRegularFile(file);
  try {
    const from = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - from);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, from + n);
      if (r === 0) break;
      n += r;
    }
    const text = buf.toString('latin1', 0, n);
    return from === 0 ? text : text.slice(text.indexOf('\n') + 1);
  } finally {
    closeSync(fd);
  }
}

/** Our server's `port` file (`<n>\n`, server/serverDir.ts), or undefined when absent or not a port. */
function readPortFile(file: string): number | undefined {
  try {
    const m = /^\s*(\d{1,5})\s*$/.exec(readSmallText(file, 16).text);
    const port = m ? Number(m[1]) : 0;
    return port >= 1 && port <= 65535 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** The `clients` allow-list is read up to this size (~250,000 client ids). */
const MAX_CLIENTS_BYTES = 16 << 20;

/** sid from `server_id` (`# sid = 5…`) or, failing that, from `secret` (raw 32-byte key). */
function readServerIdFrom(dir: string, names: string[]): string | undefined {
  if (names.includes('server_id')) {
    try {
      const sid = parseOptFile(readSmallText(path.join(dir, 'server_id'), 4096).text).get('sid');
      if (sid) return formatServerId(parseServerId(sid));
    } catch {
      /* fall through */
    }
  }
  if (names.includes('secret')) {
    let key: Uint8Array | undefined;
    try {
      const r = readSmallBytes(path.join(dir, 'secret'), 33);
      key = r.bytes;
      if (!r.truncated && key.length === 32 && isValidPrivateKey(key)) return formatServerId(nativeBoxCrypto().secp.publicKey(key));
    } catch {
      /* unreadable */
    } finally {
      zeroize(key);
    }
  }
  return undefined;
}

/** The client key named by an archive file name (`c…arch`), or undefined. */
export function clientKeyFromArchiveName(file: string): Uint8Array | undefined {
  const m = ARCH_NAME_RE.exec(path.basename(file));
  return m ? hexToBytes('0' + m[1]!, 'archive name', 33) : undefined;
}

export interface ProbeResult {
  readonly ours: boolean;
  /** The client key (from the name, or — when the name says nothing — from the cpk inside). */
  readonly clientKey?: Uint8Array;
  /** Sealed to this node but made by this other client: the file was swapped or renamed. */
  readonly misfiled?: Uint8Array;
  readonly reason?: string;
}

/**
 * Is this archive ours? Reads only the first box (≤ 65,535 bytes; the header box is 149).
 * @param clientKey the expected client (from the file name); without it the client is taken
 *   from the cpk inside and the signature checked against it.
 * Never throws: unreadable or foreign archives give `{ ours: false, reason }`.
 */
export function probeArchive(file: string, nodePriv: Uint8Array, clientKey?: Uint8Array): ProbeResult {
  let fd: number | undefined;
  try {
    let size: number;
    ({ fd, size } = openRegularFile(file, path.basename(file)));
    // The first box, through the one framer (a u16 length, then the box).
    const reader = new ArchReader({ what: path.basename(file) });
    let chunk: Uint8Array | undefined;
    while (chunk === undefined) {
      const w = reader.wants;
      const bytes = new Uint8Array(w.bytes);
      if (w.offset + w.bytes > size || readSync(fd, bytes, 0, w.bytes, w.offset) !== w.bytes) return { ours: false, reason: 'the file is too short' };
      for (const e of reader.push(bytes)) {
        if (e.type === 'reuploadChunk') chunk = e.chunk;
        else return { ours: false, reason: 'the file does not start with a sealed box' };
      }
    }
    const opener = new ReuploadOpener(nodePriv, clientKey, { crypto: nativeBoxCrypto(), what: path.basename(file) });
    try {
      opener.open(chunk);
      return { ours: true, clientKey: opener.clientKey! };
    } catch (e) {
      if (clientKey) {
        // Sealed to us but signed by someone else? Then it is a swapped or renamed archive.
        const other = probeArchive(file, nodePriv);
        if (other.ours) return { ours: false, misfiled: other.clientKey!, reason: `it is sealed to this node but holds the backup of ${formatClientId(other.clientKey!)}` };
      }
      return { ours: false, reason: e instanceof CldcbError ? e.message : 'the first box does not open' };
    } finally {
      opener.dispose();
    }
  } catch (e) {
    return { ours: false, reason: e instanceof CldcbError ? e.message : `cannot read it (${(e as NodeJS.ErrnoException).code ?? 'I/O error'})` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing a downloaded backup as an .arch file (§6.1), streaming

/**
 * Turns recovery-download events (no footers) into an `.arch` file with correct footers
 * (count = increment number), so the offline code reads it. Buffered writes.
 */
export class ArchFileWriter {
  private readonly fd: number;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private incDv = 0;
  private incLen = 0;
  private count = 0;
  bytes = 0;
  messages = 0;

  constructor(readonly file: string) {
    try {
      this.fd = openSync(file, 'wx', 0o600);
    } catch (e) {
      throw new CldcbError('io_error', `Cannot create ${file} for the download (${(e as NodeJS.ErrnoException).code ?? 'I/O error'}).`);
    }
  }

  private put(b: Uint8Array): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.bytes += b.length;
    if (this.pendingBytes >= 1 << 20) this.flush();
  }

  private flush(): void {
    const all = Buffer.concat(this.pending);
    let o = 0;
    while (o < all.length) o += writeSync(this.fd, all, o, all.length - o);
    this.pending = [];
    this.pendingBytes = 0;
  }

  private len(n: number): Uint8Array {
    return new Uint8Array([n >> 8, n & 0xff]);
  }

  event(e: ArchEvent): void {
    this.messages++;
    switch (e.type) {
      case 'reuploadChunk':
        this.put(this.len(e.chunk.length));
        this.put(new Uint8Array(e.chunk));
        break;
      case 'reuploadEnd':
        this.put(new Uint8Array(2));
        break;
      case 'incrementStart': {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, e.dataVersion, false);
        this.put(b);
        this.incDv = e.dataVersion;
        this.incLen = 4;
        break;
      }
      case 'incrementChunk':
        this.put(this.len(e.chunk.length));
        this.put(new Uint8Array(e.chunk));
        this.incLen += 2 + e.chunk.length;
        break;
      case 'incrementEnd':
        this.put(new Uint8Array(2));
        this.incLen += 2;
        this.put(encodeFooter(this.incLen, this.incDv, this.count & 0xffff));
        this.count++;
        break;
    }
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }
}

/** `SID@HOST[:PORT]` → parts. @throws CldcbError bad_input */
export function parseServerAddress(address: string): { serverKey: Uint8Array; serverId: string; hostPort: string } {
  const at = address.indexOf('@');
  if (at < 0) throw new CldcbError('bad_input', `server "${address}": expected SID@HOST:PORT (SID is the server id, 52… or 53…).`);
  const serverKey = parseServerId(address.slice(0, at), 'server id');
  const hostPort = address.slice(at + 1);
  if (hostPort.length === 0) throw new CldcbError('bad_input', `server "${address}": the host is missing after @.`);
  return { serverKey, serverId: formatServerId(serverKey), hostPort };
}

export function archiveExists(file: string): boolean {
  return existsSync(file);
}
