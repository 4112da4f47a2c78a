import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '../../shared/bytes';
import { CldcbError } from '../../shared/errors';
import * as M from '../../shared/cldcb/messages';

const hex = (b: Uint8Array): string => bytesToHex(b);
const C1 = hexToBytes('02f8853660663e584024d4efbd84c77b61de13941cffeb0e8a41fb06ce46373637');

describe('cldcb messages: encoding (cldcb-protocol §3.1)', () => {
  it('matches the examples of §3.1', () => {
    expect(hex(M.incrementalEnd())).toBe('0046ff0000');
    expect(hex(M.requestIncremental(5))).toBe('00200000040000000' + '5ff0000');
    expect(hex(M.requestIncremental(0xfffffffe))).toBe('0020000004fffffffeff0000');
  });

  it('request_incremental may carry our "ask me for a re-upload" TLV 1 = 01 (extension v1); other TLV 1 values are ignored', () => {
    const asked = M.requestIncremental(5, { wantsReupload: true });
    expect(hex(asked)).toBe('0020' + '00000400000005' + '01000101' + 'ff0000');
    expect(M.decodeMessage(asked)).toEqual({ type: 'request_incremental', dataVersion: 5, wantsReupload: true });
    expect(M.decodeMessage(M.requestIncremental(5))).toEqual({ type: 'request_incremental', dataVersion: 5 });
    expect(M.decodeMessage(M.encodeMessage(M.MSG.requestIncremental, [[0, Uint8Array.of(0, 0, 0, 5)], [1, Uint8Array.of(2)]]))).toEqual({ type: 'request_incremental', dataVersion: 5 });
  });

  it('has the message-id table of §3.2', () => {
    // (Extension ids may be added after these; the original's 19 must stay as they are.)
    expect(M.MSG).toMatchObject({
      giveRecognitionCode: 0,
      requestRecognitionCodes: 2,
      responseRecognitionCodes: 4,
      responseRecognitionCodesEnd: 6,
      ping: 8,
      pong: 9,
      requestIncremental: 32,
      responseReupload: 36,
      acknowledgeUpload: 38,
      reuploadChunk: 52,
      reuploadEnd: 54,
      incrementalChunk: 68,
      incrementalEnd: 70,
      requestBackupData: 112,
      responseBackedupReuploadChunk: 114,
      responseBackedupReuploadEnd: 116,
      responseBackedupIncrementalNew: 118,
      responseBackedupIncrementalChunk: 120,
      responseBackedupIncrementalEndall: 122,
    });
    expect(M.messageName(68)).toBe('incrementalChunk');
    expect(M.messageName(7)).toBe('unknown(7)');
  });

  it('sorts TLVs ascending and adds FF 00 00 unless a 0xFF TLV is present', () => {
    const m = M.encodeMessage(
      0x1234,
      new Map([
        [5, new Uint8Array([0xaa])],
        [1, new Uint8Array([])],
      ]),
    );
    expect(hex(m)).toBe('1234' + '010000' + '050001aa' + 'ff0000');
    const withFF = M.encodeMessage(9, [
      [0xff, new Uint8Array([1, 2])],
      [0, new Uint8Array([3])],
    ]);
    expect(hex(withFF)).toBe('0009' + '00000103' + 'ff00020102');
  });

  it('refuses payloads over 65535 bytes and empty or oversized chunks', () => {
    expect(() => M.incrementalChunk(new Uint8Array(M.MAX_CHUNK))).not.toThrow();
    expect(M.incrementalChunk(new Uint8Array(M.MAX_CHUNK)).length).toBe(65535);
    expect(() => M.incrementalChunk(new Uint8Array(M.MAX_CHUNK + 1))).toThrow(/1\.\.65527/);
    expect(() => M.reuploadChunk(new Uint8Array(0))).toThrow(/1\.\.65527/); // bug 6: never send empty
    expect(() => M.encodeMessage(1, [[0, new Uint8Array(65530)]])).toThrow(CldcbError);
    expect(() => M.requestIncremental(-1)).toThrow(/u32/);
    expect(() => M.requestIncremental(2 ** 32)).toThrow(/u32/);
  });

  it('encodes each constructor as its id + TLV 0', () => {
    const code = new Uint8Array(64).fill(7);
    expect(hex(M.giveRecognitionCode(code))).toBe('0000' + '000040' + '07'.repeat(64) + 'ff0000');
    expect(hex(M.requestBackupData(C1))).toBe('0070000021' + hex(C1) + 'ff0000');
    expect(hex(M.responseBackedupIncrementalNew(9))).toBe('0076000004' + '00000009' + 'ff0000');
    expect(hex(M.ping())).toBe('0008' + '00002a' + '00'.repeat(42) + 'ff0000');
    expect(hex(M.acknowledgeUpload())).toBe('0026ff0000');
    expect(() => M.giveRecognitionCode(new Uint8Array(63))).toThrow(/64 bytes/);
    expect(() => M.requestBackupData(new Uint8Array(33))).toThrow(CldcbError);
  });

  it('splits recognition records at 675 per message', () => {
    const rec = (i: number): Uint8Array => {
      const r = new Uint8Array(97);
      r[0] = 2;
      r[1] = i & 255;
      r[2] = i >> 8;
      return r;
    };
    expect(M.responseRecognitionCodes([])).toEqual([]);
    expect(M.recognitionCodesListing([]).map(hex)).toEqual(['0006ff0000']);
    const records = Array.from({ length: 1351 }, (_, i) => rec(i));
    const msgs = M.responseRecognitionCodes(records);
    expect(msgs.length).toBe(3);
    const decoded = msgs.map((p) => M.decodeMessage(p));
    const counts = decoded.map((d) => (d.type === 'response_recognition_codes' ? d.records.length : -1));
    expect(counts).toEqual([675, 675, 1]);
    const all = decoded.flatMap((d) => (d.type === 'response_recognition_codes' ? d.records.map(hex) : []));
    expect(all).toEqual(records.map(hex));
    for (const p of msgs) expect(p.length).toBeLessThanOrEqual(M.MAX_PAYLOAD);
    expect(() => M.responseRecognitionCodes([new Uint8Array(96)])).toThrow(/97 bytes/);
  });

  it('pong echoes a ping TLV map byte for byte', () => {
    const pingPayload = hexToBytes('0008' + '000003abcdef' + '050000' + 'ff000199');
    const p = M.decodeMessage(pingPayload);
    expect(p.type).toBe('ping');
    if (p.type !== 'ping') return;
    expect(hex(M.pong(p.tlvs))).toBe('0009' + '000003abcdef' + '050000' + 'ff000199');
    expect(hex(M.pong())).toBe('0009' + '00002a' + '00'.repeat(42) + 'ff0000');
  });
});

describe('cldcb messages: parsing (cldcb-protocol §3.1)', () => {
  it('stops at type 0xFF whatever its length and ignores what follows', () => {
    const m = M.parseMessage(hexToBytes('0020' + '00000400000007' + 'ff0002beef' + '0000041111111' + '1'));
    expect(m.id).toBe(32);
    expect(hex(m.tlvs.get(0)!)).toBe('00000007');
    expect(hex(m.tlvs.get(0xff)!)).toBe('beef');
  });

  it('keeps the first of duplicate types and ignores unknown ones', () => {
    const d = M.decodeMessage(hexToBytes('0020' + '0000040000000a' + '0000040000000b' + '7f0001ff' + 'ff0000'));
    expect(d).toEqual({ type: 'request_incremental', dataVersion: 10 });
  });

  it('reports a missing terminator or a cut TLV as truncated, with the offset', () => {
    for (const h of ['', '00', '0046', '0046ff', '0046ff00', '00200000040000', '0020000004000000' + '05']) {
      let err: unknown;
      try {
        M.parseMessage(hexToBytes(h));
      } catch (e) {
        err = e;
      }
      expect(err, h).toBeInstanceOf(CldcbError);
      expect((err as CldcbError).code, h).toBe('truncated');
    }
    expect(() => M.parseMessage(hexToBytes('0046ff00'))).toThrow(/byte 2/);
  });

  it('validates TLV 0 of each typed message', () => {
    const bad: [string, RegExp][] = [
      ['0000' + '000003aabbcc' + 'ff0000', /64 bytes/],
      ['0000ff0000', /missing/],
      ['0020' + '000003000001' + 'ff0000', /4 bytes/],
      ['0044' + '000000' + 'ff0000', /1\.\.65527/],
      ['0044ff0000', /missing/],
      ['0070' + '000021' + '04'.repeat(33) + 'ff0000', /compressed/],
      ['0004' + '000002aabb' + 'ff0000', /97-byte/],
    ];
    for (const [h, re] of bad) {
      let err: unknown;
      try {
        M.decodeMessage(hexToBytes(h));
      } catch (e) {
        err = e;
      }
      expect((err as CldcbError).code, h).toBe('protocol_error');
      expect((err as Error).message, h).toMatch(re);
    }
  });

  it('decodes unknown ids as unknown', () => {
    const d = M.decodeMessage(hexToBytes('0007ff0000'));
    expect(d.type).toBe('unknown');
    expect(M.describeMessage(d)).toBe('unknown message id 7');
  });

  it('round-trips every constructor through decodeMessage', () => {
    const chunk = new Uint8Array([1, 2, 3]);
    const cases: [Uint8Array, string][] = [
      [M.requestRecognitionCodes(), 'request_recognition_codes'],
      [M.responseRecognitionCodesEnd(), 'response_recognition_codes_end'],
      [M.responseReupload(), 'response_reupload'],
      [M.acknowledgeUpload(), 'acknowledge_upload'],
      [M.reuploadChunk(chunk), 'reupload_chunk'],
      [M.reuploadEnd(), 'reupload_end'],
      [M.incrementalChunk(chunk), 'incremental_chunk'],
      [M.incrementalEnd(), 'incremental_end'],
      [M.requestBackupData(C1), 'request_backup_data'],
      [M.responseBackedupReuploadChunk(chunk), 'response_backedup_reupload_chunk'],
      [M.responseBackedupReuploadEnd(), 'response_backedup_reupload_end'],
      [M.responseBackedupIncrementalNew(3), 'response_backedup_incremental_new'],
      [M.responseBackedupIncrementalChunk(chunk), 'response_backedup_incremental_chunk'],
      [M.responseBackedupIncrementalEndall(), 'response_backedup_incremental_endall'],
      [M.pong(), 'pong'],
    ];
    for (const [p, t] of cases) {
      const d = M.decodeMessage(p);
      expect(d.type).toBe(t);
      expect(M.describeMessage(d)).toContain(t);
    }
  });

  it('fuzz: arbitrary bytes never throw anything but CldcbError', () => {
    const check = (b: Uint8Array): void => {
      try {
        M.decodeMessage(b);
      } catch (e) {
        if (!(e instanceof CldcbError)) throw e;
        expect(['truncated', 'protocol_error']).toContain(e.code);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => check(b)), { numRuns: 3000 });
    // Structured inputs: a known id followed by random TLV soup, sometimes terminated.
    const ids = Object.values(M.MSG);
    fc.assert(
      fc.property(
        fc.constantFrom(...ids),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 120 }), fc.integer({ min: -3, max: 3 }))),
        fc.boolean(),
        (id, tlvs, term) => {
          const parts: number[] = [id >> 8, id & 255];
          for (const [t, v, skew] of tlvs) {
            const len = Math.max(0, v.length + skew);
            parts.push(t, len >> 8, len & 255, ...v);
          }
          if (term) parts.push(0xff, 0, 0);
          check(new Uint8Array(parts));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
