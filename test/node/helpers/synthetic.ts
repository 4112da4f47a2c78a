/**
 * Synthetic cldcb archives of any size, for the benchmarks, the cancel/crash tests and
 * drill self-tests: a real SQLite snapshot and lightningd-shaped increments (INSERTs into
 * a table, each increment ending with lightningd's data_version bump, cln-facts §8),
 * sealed exactly as a plugin does (cldcb-protocol §5: one stream per increment, or with
 * extension v1 one continued stream, docs/PROTOCOL.md §3) and
 * written in the `.arch` format (§6.1) — streaming, so a gigabyte needs no gigabyte of RAM.
 * v1 increments (docs/PROTOCOL.md §3) carry time and the chain.
 *
 * Also returns the statements' plain SQL when asked (for the sqlite3 CLI reference).
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { encodeFooter } from '../../../shared/cldcb/arch';
import { isValidPrivateKey } from '../../../shared/cldcb/curve';
import { encodeIncrementPlaintext, encodeIncrementPlaintextV1, encodeReuploadHeader, REUPLOAD_PIECE_SIZE, splitIncrementPlaintext } from '../../../shared/cldcb/plaintexts';
import { Sealer } from '../../../shared/cldcb/seal';
import { nativeBoxCrypto } from '../../../shared/node/nativeSeal';

export interface SyntheticOptions {
  /** Where the archive goes. */
  readonly archivePath: string;
  /** Scratch file for the snapshot database (removed afterwards unless keepScratchDb). */
  readonly scratchDb: string;
  readonly keepScratchDb?: boolean;
  /** The node the data is sealed to (33-byte id). */
  readonly nodeId: Uint8Array;
  /** Client private key (default: random). */
  readonly clientPrivateKey?: Uint8Array;
  /** Rows in the snapshot's `items` table. */
  readonly snapshotRows: number;
  readonly increments: number;
  readonly statementsPerIncrement: number;
  /** Text bytes per row (default 200). */
  readonly rowBytes?: number;
  /** 0 (original) or 1 (chained). Default 1. */
  readonly format?: 0 | 1;
  /**
   * 'continued': increments continue one sealed stream (our plugin with our server,
   * extension v1); 'per-increment': a fresh stream per increment (the original plugin, or
   * ours with an original server). Default: 'continued' for format 1, else 'per-increment'.
   */
  readonly streams?: 'continued' | 'per-increment';
  /** data_version of the snapshot (default 100): the re-upload header carries dv + 1. */
  readonly snapshotDataVersion?: number;
  /** unix time of the first increment (v1), +1 s per increment. */
  readonly startTime?: number;
  /** Also write the increments' SQL (one statement per line, in one transaction) here. */
  readonly sqlPath?: string;
}

export interface SyntheticArchive {
  readonly archivePath: string;
  readonly clientPrivateKey: Uint8Array;
  readonly clientKey: Uint8Array;
  readonly finalDataVersion: number;
  readonly statements: number;
  readonly snapshotBytes: number;
  readonly archiveBytes: number;
  readonly plaintextBytes: number;
}

class FileOut {
  private readonly fd: number;
  private parts: Uint8Array[] = [];
  private n = 0;
  bytes = 0;
  constructor(file: string) {
    this.fd = openSync(file, 'w', 0o600);
  }
  put(b: Uint8Array): void {
    this.parts.push(b);
    this.n += b.length;
    this.bytes += b.length;
    if (this.n >= 4 << 20) this.flush();
  }
  flush(): void {
    const all = Buffer.concat(this.parts);
    let o = 0;
    while (o < all.length) o += writeSync(this.fd, all, o, all.length - o);
    this.parts = [];
    this.n = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const u16 = (n: number): Uint8Array => new Uint8Array([n >> 8, n & 0xff]);
const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
};

/** A row's text, deterministic per id. */
function rowText(id: number, bytes: number): string {
  const seed = `row ${id} `;
  return (seed + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(bytes / 36))).slice(0, bytes);
}

/** Make a synthetic archive. */
export function makeSyntheticArchive(o: SyntheticOptions): SyntheticArchive {
  const crypto = nativeBoxCrypto();
  let cpk = o.clientPrivateKey ? new Uint8Array(o.clientPrivateKey) : undefined;
  while (!cpk || !isValidPrivateKey(cpk)) cpk = new Uint8Array(randomBytes(32));
  const rowBytes = o.rowBytes ?? 200;
  const format = o.format ?? 1;
  const snapDv = o.snapshotDataVersion ?? 100;
  const R = snapDv + 1;

  // 1. The snapshot database.
  rmSync(o.scratchDb, { force: true });
  const db = new Database(o.scratchDb);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec('CREATE TABLE vars (name TEXT, val TEXT, intval INTEGER, blobval BLOB, PRIMARY KEY (name));');
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, owner BLOB, amount INTEGER, note TEXT);');
  db.prepare("INSERT INTO vars (name, intval) VALUES ('data_version', ?)").run(snapDv);
  const ins = db.prepare('INSERT INTO items VALUES (?, ?, ?, ?)');
  const fill = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) ins.run(i, Buffer.from([i & 0xff, (i >> 8) & 0xff, 0x42]), i * 1000, rowText(i, rowBytes));
  });
  for (let i = 0; i < o.snapshotRows; i += 100_000) fill(i, Math.min(o.snapshotRows, i + 100_000));
  db.close();

  const out = new FileOut(o.archivePath);
  const sql = o.sqlPath ? new FileOut(o.sqlPath) : undefined;
  const enc = new TextEncoder();
  let plaintextBytes = 0;
  try {
    // 2. Re-upload section: header box, then the database in 64,984-byte pieces.
    const header = encodeReuploadHeader(cpk, R);
    const snapSha = createHash('sha256');
    const sealer = new Sealer(cpk, o.nodeId, { crypto });
    const putChunk = (c: Uint8Array): void => {
      out.put(u16(c.length));
      out.put(c);
    };
    putChunk(sealer.seal(header));
    const fd = openSync(o.scratchDb, 'r');
    const piece = new Uint8Array(REUPLOAD_PIECE_SIZE);
    let snapshotBytes = 0;
    try {
      for (;;) {
        let n = 0;
        while (n < piece.length) {
          const r = readSync(fd, piece, n, piece.length - n, null);
          if (r === 0) break;
          n += r;
        }
        if (n === 0) break;
        const p = piece.subarray(0, n);
        snapSha.update(p);
        snapshotBytes += n;
        putChunk(sealer.seal(p));
        if (n < piece.length) break;
      }
    } finally {
      closeSync(fd);
    }
    sealer.dispose();
    out.put(new Uint8Array(2));
    let prev: Uint8Array = new Uint8Array(createHash('sha256').update('cldcb snapshot').update(header).update(snapSha.digest()).digest());
    header.fill(0);

    // 3. Increments: INSERTs then the bump, dv R, R+1, …
    sql?.put(enc.encode('BEGIN;\n'));
    let id = o.snapshotRows;
    let statements = 0;
    const streams = o.streams ?? (format === 1 ? 'continued' : 'per-increment');
    let stream: Sealer | undefined;
    for (let k = 0; k < o.increments; k++) {
      const dv = (R + k) % 0x100000000;
      const list: string[] = [];
      for (let j = 0; j < o.statementsPerIncrement; j++, id++)
        list.push(`INSERT INTO items VALUES (${id}, x'${(id & 0xffff).toString(16).padStart(4, '0')}42', ${id * 1000}, '${rowText(id, rowBytes)}')`);
      list.push(`UPDATE vars SET intval = intval + 1 WHERE name = 'data_version' AND intval = ${(dv + 0xffffffff) % 0x100000000}`);
      statements += list.length;
      if (sql) for (const s of list) sql.put(enc.encode(s + ';\n'));
      const pt = format === 1 ? encodeIncrementPlaintextV1(dv, (o.startTime ?? 1_795_000_000) + k, prev, list) : encodeIncrementPlaintext(dv, list);
      plaintextBytes += pt.length;
      if (format === 1) prev = new Uint8Array(createHash('sha256').update(pt).digest());
      const continuing = streams === 'continued' && stream !== undefined;
      const s = continuing ? stream! : new Sealer(cpk, o.nodeId, { crypto });
      out.put(u32(dv));
      let len = 4;
      splitIncrementPlaintext(pt).forEach((p, i) => {
        const c = i === 0 && continuing ? s.sealContinued(p) : s.seal(p);
        out.put(u16(c.length));
        out.put(c);
        len += 2 + c.length;
      });
      if (streams === 'continued') stream = s;
      else s.dispose();
      out.put(new Uint8Array(2));
      len += 2;
      out.put(encodeFooter(len, dv, k & 0xffff));
    }
    stream?.dispose();
    sql?.put(enc.encode('COMMIT;\n'));
    out.close();
    sql?.close();
    const finalDataVersion = o.increments > 0 ? (R + o.increments - 1) % 0x100000000 : snapDv;
    return {
      archivePath: o.archivePath,
      clientPrivateKey: cpk,
      clientKey: crypto.secp.publicKey(cpk),
      finalDataVersion,
      statements,
      snapshotBytes,
      archiveBytes: out.bytes,
      plaintextBytes,
    };
  } finally {
    if (!o.keepScratchDb) rmSync(o.scratchDb, { force: true });
  }
}
