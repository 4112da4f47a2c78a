/**
 * The cldcb core against REAL data made by the original C++ programs
 * (test/fixtures/cldcb/README.md): archives, keys, wrapper, recognition records,
 * recovery messages.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes, utf8 } from '../../shared/bytes';
import { sha256 } from '../../shared/crypto/hash';
import { CldcbError } from '../../shared/errors';
import { encodeArchive, readArchive, type ArchEvent } from '../../shared/cldcb/arch';
import { RecoveryAssembler } from '../../shared/cldcb/download';
import { decodeArchive, type DecodedArchive as ArchiveVerdict } from '../unit/helpers/decode';
import { nobleSecp } from '../../shared/cldcb/curve';
import { formatClientId, parseClientId, parseClientKeyFile, parseNodeId, parseOptFile } from '../../shared/cldcb/ids';
import { parsePluginWrapper } from '../../shared/cldcb/wrapper';
import { decodeMessage, encodeMessage, MSG } from '../../shared/cldcb/messages';
import { checkRecognition, decodeRecognitionRecord, parseRecognitionCodesFile, verifyRecognitionAsClient } from '../../shared/cldcb/recognition';
import { Unsealer } from '../../shared/cldcb/seal';

const DIR = path.join(__dirname, '../fixtures/cldcb');
const CID_TEXT = 'c2f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637';
const ARCH_NAME = `${CID_TEXT}.arch`;
const file = (p: string): Uint8Array => new Uint8Array(readFileSync(path.join(DIR, p)));
const text = (p: string): string => readFileSync(path.join(DIR, p), 'utf8');

const nodeKey = parseOptFile(text('node.key'));
const NPK = hexToBytes(nodeKey.get('npk')!, 'npk', 32);
const NID = parseNodeId(nodeKey.get('nid')!);
const c1 = parseClientKeyFile(text('c1.key'));
const CID = c1.clientId;
const ARCH = file(ARCH_NAME);

interface Transcript {
  dir: string;
  msg: { method?: string; params?: { data_version: number; writes: string[] } };
}
/** db_write calls the plugin received, in order (snapshots/plugin_transcript.json). */
const dbWrites = (JSON.parse(text('snapshots/plugin_transcript.json')) as Transcript[])
  .filter((e) => e.dir === 'to_plugin' && e.msg.method === 'db_write')
  .map((e) => e.msg.params!);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CldcbError);
    return (e as CldcbError).code;
  }
  return 'no error';
}

describe('keys and identities from the original programs', () => {
  it('node.key: nid = pubkey(npk); c1.key: 148 bytes, cid = pubkey(cpk)', () => {
    expect(bytesToHex(nobleSecp.publicKey(NPK))).toBe(bytesToHex(NID));
    expect(readFileSync(path.join(DIR, 'c1.key')).length).toBe(148);
    expect(formatClientId(CID)).toBe(CID_TEXT);
  });

  it('the wrapper parses; its cid/cpk are c1.key and its nsig is the recognition code', () => {
    const w = parsePluginWrapper(text('cldcb-plugin-wrapper'));
    expect(bytesToHex(w.clientId)).toBe(bytesToHex(CID));
    expect(bytesToHex(w.clientPrivateKey)).toBe(bytesToHex(c1.privateKey));
    expect(bytesToHex(w.nodeId)).toBe(bytesToHex(NID));
    expect(w.server).toEqual({ host: '127.0.0.1', port: 29735 });
    const rec = decodeRecognitionRecord(hexToBytes(text('recognition_record_c1.hex').trim()), true);
    expect(bytesToHex(rec.clientKey)).toBe(bytesToHex(CID));
    expect(bytesToHex(w.nodeSignature)).toBe(bytesToHex(rec.code));
    expect(verifyRecognitionAsClient(w.clientPrivateKey, w.nodeId, w.nodeSignature)).toBe(true);
  });

  it('the c1 recognition record verifies with the node key and fails with another', () => {
    const rec = decodeRecognitionRecord(hexToBytes(text('recognition_record_c1.hex').trim()));
    expect(checkRecognition(NPK, rec.clientKey, rec.code)).toBe(true);
    expect(checkRecognition(sha256(utf8('some other node')), rec.clientKey, rec.code)).toBe(false);
    expect(checkRecognition(c1.privateKey, rec.clientKey, rec.code)).toBe(false);
  });

  it('server_dir: clients lists both ids; recognition_codes holds only client 2 (load bug)', () => {
    const ids = text('server_dir/clients').split(/\s+/).filter(Boolean).map((s) => parseClientId(s));
    expect(ids.map(formatClientId)).toContain(CID_TEXT);
    expect(ids.length).toBe(2);
    const recs = parseRecognitionCodesFile(text('server_dir/recognition_codes'));
    expect(recs.length).toBe(1);
    expect(bytesToHex(recs[0]!.clientKey)).toBe('0' + formatClientId(ids.find((k) => formatClientId(k) !== CID_TEXT)!).slice(1));
    expect(recs.map((r) => bytesToHex(r.clientKey))).not.toContain(bytesToHex(CID));
  });
});

describe('the final archive (reupload at dv 5 + increments dv 5..9)', () => {
  let verdict: ArchiveVerdict;

  it('decodes exactly', () => {
    verdict = decodeArchive(ARCH, NPK, CID);
    expect(verdict.reuploadDataVersion).toBe(5);
    expect(verdict.snapshotSize).toBe(163840);
    expect(Buffer.compare(Buffer.concat(verdict.snapshot), Buffer.from(file('lightningd.sqlite3.initial_dv4')))).toBe(0);
    expect(verdict.increments.map((d) => d.dataVersion)).toEqual([5, 6, 7, 8, 9]);
    expect(verdict.increments.map((d) => d.footer!.count)).toEqual([0, 1, 3, 4, 5]); // drift, bug 3
    expect(verdict.increments.map((d) => d.chunks)).toEqual([1, 1, 1, 1, 1]);
    expect(verdict.replay.length).toBe(5);
    expect(verdict.finalDataVersion).toBe(9);
    // The writes are hand-made (no data_version bump): warnings, not errors.
    expect(verdict.ok).toBe(true);
    expect(verdict.warnings.filter((w) => w.severity === 'error')).toEqual([]);
    // The four increments after the first advance data_version without lightningd's bump (one
    // warning naming them), the footer counts drift (bug 3), and v0 increments carry no chain.
    expect(verdict.warnings.map((w) => w.kind)).toEqual(['missing_bump', 'count_drift', 'no_chain']);
    expect(verdict.warnings[0]!.message).toMatch(/^5 increments \(0, 1, 2, 3, 4\) advance data_version without/);
  });

  it('holds what the plugin was sent (dv7 = the second try), \\u00e9 mangled by bug 8', () => {
    const expected = new Map<number, string[]>();
    for (const w of dbWrites) expected.set(w.data_version, w.writes); // the last dv7 call wins
    for (const d of verdict.increments) {
      const want = expected.get(d.dataVersion)!.map((s) => s.replace('é', '195169'));
      expect(d.statements).toEqual(want);
    }
    expect(verdict.increments[2]!.statements).toEqual(["INSERT INTO notes(txt) VALUES('dv7 second try')"]);
    expect(verdict.increments[4]!.statements).toEqual([]);
  });

  it('re-encodes byte for byte', () => {
    expect(Buffer.compare(Buffer.from(encodeArchive(readArchive(ARCH))), Buffer.from(ARCH))).toBe(0);
  });

  it('its header signatures are RFC 6979, byte-equal to ours (libsecp256k1 default nonce)', () => {
    const firsts: Uint8Array[] = [];
    let take = true;
    for (const e of readArchive(ARCH)) {
      if ((e.type === 'reuploadChunk' || e.type === 'incrementChunk') && take) firsts.push(e.chunk);
      take = e.type === 'incrementStart';
    }
    expect(firsts.length).toBe(6);
    for (const c of firsts) {
      const E = c.subarray(0, 33);
      expect(bytesToHex(c.subarray(33, 97))).toBe(bytesToHex(nobleSecp.signHash(sha256(E), c1.privateKey)));
    }
  });

  it('replayed into the snapshot with SQLite, gives the recovered database', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cldcb-replay-'));
    try {
      const dbPath = path.join(dir, 'lightningd.sqlite3');
      writeFileSync(dbPath, Buffer.concat(verdict.snapshot));
      const db = new Database(dbPath);
      db.transaction(() => {
        for (const d of verdict.replay) for (const s of d.statements) db.exec(s);
      })();
      const ref = new Database(path.join(DIR, 'recovered_from_archive_dv9.sqlite3'), { readonly: true });
      const rows = (h: Database.Database): string => bytesToHex(sha256(utf8(JSON.stringify(h.prepare('SELECT id, txt FROM notes ORDER BY id').all()))));
      expect(rows(db)).toBe(rows(ref));
      const n = (h: Database.Database): number => (h.prepare('SELECT count(*) AS n FROM notes').get() as { n: number }).n;
      expect(n(db)).toBe(n(ref));
      expect(n(db)).toBeGreaterThan(3);
      db.close();
      ref.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every snapshot after each acknowledged db_write decodes as expected', () => {
    const cases: [string, number[], number[]][] = [
      ['after_dv5_reupload', [5], [0]],
      ['after_dv6_append_big', [5, 6], [0, 1]],
      ['after_dv7_replace', [5, 6, 7], [0, 1, 3]],
      ['after_dv8_append', [5, 6, 7, 8], [0, 1, 3, 4]],
    ];
    for (const [name, dvs, counts] of cases) {
      const v = decodeArchive(file(`snapshots/${CID_TEXT}.${name}.arch`), NPK, CID);
      expect(v.increments.map((d) => d.dataVersion), name).toEqual(dvs);
      expect(v.increments.map((d) => d.footer!.count), name).toEqual(counts);
      expect(v.snapshotSize).toBe(163840);
    }
    // dv6 is the "large" write: 64033-byte statement, one 64167-byte chunk (the original cannot send more).
    const dv6 = decodeArchive(file(`snapshots/${CID_TEXT}.after_dv6_append_big.arch`), NPK, CID).increments[1]!;
    expect(dv6.statements[0]!.length).toBe(64033);
  });

  it('tampering anywhere in a sealed chunk gives not_authentic', () => {
    const evs = readArchive(ARCH);
    const chunks = evs.filter((e): e is Extract<ArchEvent, { type: 'incrementChunk' | 'reuploadChunk' }> => e.type === 'reuploadChunk' || e.type === 'incrementChunk');
    for (const [ci, positions] of [
      [0, [0, 1, 32, 33, 96, 97, 120, 148]],
      [1, [0, 1000, 64999]],
      [4, [0, 40, 255]],
      [8, [0, 33, 97, 125]],
    ] as [number, number[]][]) {
      const c = chunks[ci]!;
      for (const p of positions) {
        const bad = ARCH.slice();
        bad[c.offset! + 2 + p]! ^= 0x01;
        expect(codeOf(() => decodeArchive(bad, NPK, CID)), `chunk ${ci} byte ${p}`).toBe('not_authentic');
      }
    }
    expect(codeOf(() => decodeArchive(ARCH, NPK, parseNodeId(nodeKey.get('nid')!)))).toBe('not_authentic');
  });

  it('a truncated archive gives a clear error with offsets; "drop" keeps the complete part', () => {
    const cut = ARCH.subarray(0, ARCH.length - 50);
    let msg = '';
    try {
      decodeArchive(cut, NPK, CID);
    } catch (e) {
      expect((e as CldcbError).code).toBe('truncated');
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/torn tail — the file ends at byte 229159, inside the increment with data_version 9 starting at byte 229029/);
    const v = decodeArchive(cut, NPK, CID, { tornTail: 'drop' });
    expect(v.replay.map((d) => d.dataVersion)).toEqual([5, 6, 7, 8]);
    expect(v.warnings.some((w) => w.kind === 'torn_tail')).toBe(true);
    const badFooter = ARCH.slice();
    badFooter[ARCH.length - 1]! ^= 1;
    expect(codeOf(() => decodeArchive(badFooter, NPK, CID))).toBe('bad_checksum');
  });
});

describe('recovery messages captured from the live server', () => {
  interface Captured {
    mid: number;
    tlvs: Record<string, string>;
  }
  const captured = JSON.parse(text('recovery/recovery_messages.json')) as Captured[];

  it('rebuild into payloads that parse, carry the archive chunks, and decode to the same backup', () => {
    // Large chunks are abbreviated ("65000 bytes") in the capture: take them from the archive,
    // checking the length; small ones must equal the archive's chunk bytes.
    const archChunks = readArchive(ARCH).flatMap((e) => (e.type === 'reuploadChunk' || e.type === 'incrementChunk' ? [e.chunk] : []));
    let next = 0;
    const payloads = captured.map((m) => {
      const tlvs: [number, Uint8Array][] = [];
      for (const [t, v] of Object.entries(m.tlvs)) {
        if (Number(t) === 0xff) continue;
        let value: Uint8Array;
        const abbreviated = /^(\d+) bytes$/.exec(v);
        if (m.mid === MSG.responseBackedupReuploadChunk || m.mid === MSG.responseBackedupIncrementalChunk) {
          const c = archChunks[next++]!;
          if (abbreviated) expect(c.length).toBe(Number(abbreviated[1]));
          else expect(bytesToHex(c)).toBe(v);
          value = c;
        } else value = hexToBytes(v);
        tlvs.push([Number(t), value]);
      }
      return encodeMessage(m.mid, tlvs);
    });
    expect(next).toBe(archChunks.length);
    const decoded = payloads.map(decodeMessage);
    expect(decoded.map((d) => d.type)).toEqual([
      'response_recognition_codes',
      'response_recognition_codes_end',
      ...Array(4).fill('response_backedup_reupload_chunk'),
      'response_backedup_reupload_end',
      ...[5, 6, 7, 8, 9].flatMap(() => ['response_backedup_incremental_new', 'response_backedup_incremental_chunk']),
      'response_backedup_incremental_endall',
    ]);
    const first = decoded[0]!;
    expect(first.type === 'response_recognition_codes' && bytesToHex(first.records[0]!)).toBe(text('recognition_record_c1.hex').trim());
    const asm = new RecoveryAssembler();
    const evs = decoded.slice(2).flatMap((d) => asm.push(d));
    asm.end();
    const fromNet = decodeArchive(evs, NPK, CID);
    const fromFile = decodeArchive(ARCH, NPK, CID);
    expect(fromNet.replay.map((d) => [d.dataVersion, d.statements])).toEqual(fromFile.replay.map((d) => [d.dataVersion, d.statements]));
    expect(Buffer.compare(Buffer.concat(fromNet.snapshot), Buffer.concat(fromFile.snapshot))).toBe(0);
    // Without footers, counts come out clean (0..4); only the footers differ from the real file.
    const rebuilt = encodeArchive(evs);
    expect(rebuilt.length).toBe(ARCH.length);
    expect(readArchive(rebuilt).flatMap((e) => (e.type === 'incrementEnd' ? [e.footer!.count] : []))).toEqual([0, 1, 2, 3, 4]);
  });

  it('the reupload header box opens with c1 and carries c1.key and dv 5', () => {
    const first = hexToBytes(captured[2]!.tlvs['0']!);
    const u = new Unsealer(NPK, { sender: CID });
    const pt = u.unseal(first);
    expect(pt.length).toBe(36);
    expect(bytesToHex(pt.subarray(0, 32))).toBe(bytesToHex(c1.privateKey));
    expect(bytesToHex(pt.subarray(32))).toBe('00000005');
  });
});
