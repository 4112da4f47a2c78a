/**
 * The server's `<cid>.arch` file (cldcb-protocol §6.1; original `server/STORAGE.md`,
 * `server/Archive/*Writer.cpp`, `Reader.cpp`, `FooterJudge.cpp`):
 *
 *   reupload section : (u16 len ‖ chunk[len])* ‖ 00 00
 *   increment*       : u32 dv ‖ (u16 len ‖ chunk[len])* ‖ 00 00 ‖ footer
 *   footer (46 B)    : u64 last_length ‖ u32 dv ‖ u16 count ‖ SHA256(previous 14 bytes)
 *
 * `last_length` = 4 + Σ(2 + len) + 2 (the increment without its footer). `count` is
 * meant to be "increments − 1" but drifts (bug 3, §8.2: a same-dv replace writes
 * prev + 1), so readers only report it. Chunk length 0 is the terminator.
 */
import { concatBytes, equalBytes, takeFromChunks, u16be, u32be, u64be } from '../bytes';
import { sha256 } from '../crypto/hash';
import { CldcbError } from '../errors';

export const FOOTER_SIZE = 46;
/** Largest chunk an archive can hold (u16 length; 0 is the terminator). */
export const MAX_ARCH_CHUNK = 0xffff;

export interface ArchFooter {
  /** Size of the increment without its footer. */
  readonly lastLength: number;
  readonly dataVersion: number;
  readonly count: number;
  /** Byte offset of the footer in the archive. */
  readonly offset: number;
  /** The footer's 46 bytes as read (ArchReader in `views` mode; a view, valid as the chunks are). */
  readonly raw?: Uint8Array;
  /** What is wrong with it (ArchReader with `checkFooters: 'report'`; absent when it is sound). */
  readonly problems?: readonly string[];
}

/**
 * Archive events, in file order. `offset` is the byte position in the archive (absent for
 * events made from network messages, which carry no footers).
 */
export type ArchEvent =
  | { readonly type: 'reuploadChunk'; readonly chunk: Uint8Array; readonly offset?: number }
  | { readonly type: 'reuploadEnd'; readonly offset?: number }
  | { readonly type: 'incrementStart'; readonly dataVersion: number; readonly offset?: number }
  | { readonly type: 'incrementChunk'; readonly chunk: Uint8Array; readonly offset?: number }
  | { readonly type: 'incrementEnd'; readonly footer?: ArchFooter; readonly offset?: number };

// ---------------------------------------------------------------------------------------------
// Writers

function checkU32(dv: number): void {
  if (!Number.isInteger(dv) || dv < 0 || dv > 0xffffffff) throw new CldcbError('bad_input', `data_version ${dv} is not a u32.`);
}

function encodeChunks(chunks: readonly Uint8Array[], what: string): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    if (c.length < 1 || c.length > MAX_ARCH_CHUNK) throw new CldcbError('bad_length', `${what}: chunk of ${c.length} bytes (must be 1..65535).`);
    parts.push(u16be(c.length), c);
  }
  parts.push(new Uint8Array(2));
  return parts;
}

/**
 * The 46-byte footer.
 * @throws CldcbError bad_input for out-of-range fields.
 */
export function encodeFooter(lastLength: number, dataVersion: number, count: number): Uint8Array {
  checkU32(dataVersion);
  if (!Number.isSafeInteger(lastLength) || lastLength < 6) throw new CldcbError('bad_input', `footer last_length ${lastLength} is invalid.`);
  if (!Number.isInteger(count) || count < 0 || count > 0xffff) throw new CldcbError('bad_input', `footer count ${count} is not a u16.`);
  const head = concatBytes(u64be(BigInt(lastLength)), u32be(dataVersion), u16be(count));
  return concatBytes(head, sha256(head));
}

/** Reupload section: (u16 len ‖ chunk)* ‖ 00 00. @throws CldcbError bad_length */
export function encodeReuploadSection(chunks: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...encodeChunks(chunks, 'reupload section'));
}

/**
 * One increment with its footer, with an explicit footer `count`.
 * @throws CldcbError bad_length / bad_input
 */
export function encodeIncrement(dataVersion: number, chunks: readonly Uint8Array[], count: number): Uint8Array {
  checkU32(dataVersion);
  const body = concatBytes(u32be(dataVersion), ...encodeChunks(chunks, `increment dv ${dataVersion}`));
  return concatBytes(body, encodeFooter(body.length, dataVersion, count));
}

/**
 * The footer count the original server writes: 0 for the first increment after a reupload
 * (`prevCount` null), otherwise prevCount + 1 — also for a same-dv replace (bug 3).
 */
export function nextFooterCount(prevCount: number | null): number {
  return prevCount === null ? 0 : (prevCount + 1) & 0xffff;
}

/** One increment with its footer, the count following the previous footer's count. */
export function encodeIncrementAfter(dataVersion: number, chunks: readonly Uint8Array[], prevCount: number | null): Uint8Array {
  return encodeIncrement(dataVersion, chunks, nextFooterCount(prevCount));
}

/**
 * Rebuild an archive from events. Increments whose end event carries a footer keep its
 * count (so a parsed archive re-encodes byte for byte); footer-less ones (from network
 * messages) get the counts a fresh server would write: 0, 1, 2, …
 * @throws CldcbError bad_input when the events are out of order.
 */
export function encodeArchive(events: Iterable<ArchEvent>): Uint8Array {
  const out: Uint8Array[] = [];
  const reupload: Uint8Array[] = [];
  let phase: 'reupload' | 'between' | 'increment' = 'reupload';
  let dv = 0;
  let chunks: Uint8Array[] = [];
  let prevCount: number | null = null;
  for (const e of events) {
    switch (e.type) {
      case 'reuploadChunk':
        if (phase !== 'reupload') throw new CldcbError('bad_input', 'archive events: reupload chunk after the reupload section.');
        reupload.push(e.chunk);
        break;
      case 'reuploadEnd':
        if (phase !== 'reupload') throw new CldcbError('bad_input', 'archive events: second reupload end.');
        out.push(encodeReuploadSection(reupload));
        phase = 'between';
        break;
      case 'incrementStart':
        if (phase !== 'between') throw new CldcbError('bad_input', 'archive events: increment start out of place.');
        dv = e.dataVersion;
        chunks = [];
        phase = 'increment';
        break;
      case 'incrementChunk':
        if (phase !== 'increment') throw new CldcbError('bad_input', 'archive events: increment chunk outside an increment.');
        chunks.push(e.chunk);
        break;
      case 'incrementEnd': {
        if (phase !== 'increment') throw new CldcbError('bad_input', 'archive events: increment end outside an increment.');
        const count: number = e.footer ? e.footer.count : nextFooterCount(prevCount);
        out.push(encodeIncrement(dv, chunks, count));
        prevCount = count;
        phase = 'between';
        break;
      }
    }
  }
  if (phase !== 'between') throw new CldcbError('bad_input', 'archive events: the last increment (or the reupload section) is not finished.');
  return concatBytes(...out);
}

/**
 * The footer rule (§6.2): its hash covers its first 14 bytes, `last_length` is the size of
 * the increment before it, and its data_version is the framing's. Counts are never checked
 * (they drift on the original server, bug 3).
 * @param sha256 the hash to use (Node readers inject node:crypto's).
 * @returns what is wrong, as phrases for a message ("its checksum does not match", …); empty when sound.
 */
export function footerProblems(f: Uint8Array, incrementLength: number, framingDv: number, sha256Of: (b: Uint8Array) => Uint8Array = sha256): string[] {
  const problems: string[] = [];
  if (f.length !== FOOTER_SIZE || !equalBytes(sha256Of(f.subarray(0, 14)), f.subarray(14, FOOTER_SIZE))) problems.push('its checksum does not match');
  if (f.length !== FOOTER_SIZE) return problems;
  const { lastLength, dataVersion } = footerFields(f);
  if (lastLength !== incrementLength) problems.push(`it records length ${lastLength} but the increment is ${incrementLength} bytes`);
  if (dataVersion !== framingDv) problems.push(`it records data_version ${dataVersion}, not ${framingDv}`);
  return problems;
}

/** The fields of a 46-byte footer. Plain byte arithmetic, no DataView or BigInt: this runs once per increment. */
function footerFields(f: Uint8Array): { lastLength: number; dataVersion: number; count: number } {
  const hi = ((f[0]! << 24) | (f[1]! << 16) | (f[2]! << 8) | f[3]!) >>> 0;
  const lo = ((f[4]! << 24) | (f[5]! << 16) | (f[6]! << 8) | f[7]!) >>> 0;
  return {
    lastLength: hi * 0x100000000 + lo, // exact below 2^53; larger values never match a real length anyway
    dataVersion: ((f[8]! << 24) | (f[9]! << 16) | (f[10]! << 8) | f[11]!) >>> 0,
    count: (f[12]! << 8) | f[13]!,
  };
}

// ---------------------------------------------------------------------------------------------
// Streaming reader (the one framer: every reader of `.arch` bytes — the server's open and its
// download, the recovery's passes, the pipeline, the tools — goes through it)

type ReaderState = 'reuploadLen' | 'reuploadChunk' | 'incDv' | 'incLen' | 'incChunk' | 'footer';

export interface ArchReaderOptions {
  /**
   * Footers ({@link footerProblems}): true (default) — a damaged footer throws; 'report' — the
   * problems ride on the footer of the `incrementEnd` event (the recovery warns: the sealed
   * data is what counts); false — not checked.
   */
  readonly checkFooters?: boolean | 'report';
  /** SHA-256 for the footer check (default noble; Node readers pass node:crypto's). */
  readonly sha256?: (data: Uint8Array) => Uint8Array;
  /** Names the archive in error messages. */
  readonly what?: string;
  /**
   * Events carry views of the pushed bytes instead of copies wherever an item lies in one
   * pushed buffer (a copy only when it spans two). For callers that handle each event
   * before they reuse or change the buffers they pushed (recovery reads megabytes in a few
   * reused blocks; a copy of every chunk was a tenth of its time). Default false.
   */
  readonly views?: boolean;
}

/**
 * Push-style reader: feed byte chunks of any size with `push`, which returns the events
 * completed so far; call `end` at end of file. Errors carry byte offsets.
 */
export class ArchReader {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private pos = 0; // archive offset of the first queued byte
  private state: ReaderState = 'reuploadLen';
  private need = 2;
  private itemStart = 0;
  private incStart = 0;
  private incDv = 0;
  private incLength = 0;
  private increments = 0;
  private readonly check: boolean | 'report';
  private readonly sha256: (data: Uint8Array) => Uint8Array;
  private readonly what: string;
  private readonly views: boolean;
  /** Bytes of queue[0] already taken (views mode). */
  private headOff = 0;

  constructor(opts: ArchReaderOptions = {}) {
    this.check = opts.checkFooters ?? true;
    this.sha256 = opts.sha256 ?? sha256;
    this.what = opts.what ?? 'archive';
    this.views = opts.views ?? false;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.pos;
  }

  /** Complete increments read so far. */
  get incrementCount(): number {
    return this.increments;
  }

  private take(n: number): Uint8Array {
    if (this.views) {
      const head = this.queue[0]!;
      if (head.length - this.headOff >= n) {
        const out = head.subarray(this.headOff, this.headOff + n);
        this.headOff += n;
        if (this.headOff === head.length) {
          this.queue.shift();
          this.headOff = 0;
        }
        this.queued -= n;
        this.pos += n;
        return out;
      }
      if (this.headOff > 0) {
        this.queue[0] = head.subarray(this.headOff);
        this.headOff = 0;
      }
    }
    const out = takeFromChunks(this.queue, n);
    this.queued -= n;
    this.pos += n;
    return out;
  }

  /**
   * @returns the events completed by these bytes.
   * @throws CldcbError bad_checksum (footer hash), bad_input (footer fields disagree with
   *   the increment) — with byte offsets.
   */
  push(bytes: Uint8Array): ArchEvent[] {
    const events: ArchEvent[] = [];
    if (bytes.length === 0) return events;
    this.queue.push(bytes);
    this.queued += bytes.length;
    while (this.queued >= this.need) {
      const at = this.pos;
      switch (this.state) {
        case 'reuploadLen': {
          const b = this.take(2);
          const len = (b[0]! << 8) | b[1]!;
          if (len === 0) {
            events.push({ type: 'reuploadEnd', offset: at });
            this.state = 'incDv';
            this.need = 4;
          } else {
            this.itemStart = at;
            this.state = 'reuploadChunk';
            this.need = len;
          }
          break;
        }
        case 'reuploadChunk':
          events.push({ type: 'reuploadChunk', chunk: this.take(this.need), offset: this.itemStart });
          this.state = 'reuploadLen';
          this.need = 2;
          break;
        case 'incDv': {
          const b = this.take(4);
          this.incDv = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
          this.incStart = at;
          this.incLength = 4;
          events.push({ type: 'incrementStart', dataVersion: this.incDv, offset: at });
          this.state = 'incLen';
          this.need = 2;
          break;
        }
        case 'incLen': {
          const b = this.take(2);
          const len = (b[0]! << 8) | b[1]!;
          this.incLength += 2;
          if (len === 0) {
            this.state = 'footer';
            this.need = FOOTER_SIZE;
          } else {
            this.itemStart = at;
            this.state = 'incChunk';
            this.need = len;
          }
          break;
        }
        case 'incChunk':
          this.incLength += this.need;
          events.push({ type: 'incrementChunk', chunk: this.take(this.need), offset: this.itemStart });
          this.state = 'incLen';
          this.need = 2;
          break;
        case 'footer': {
          const f = this.take(FOOTER_SIZE);
          const footer = this.parseFooter(f, at);
          this.increments++;
          events.push({ type: 'incrementEnd', footer, offset: at });
          this.state = 'incDv';
          this.need = 4;
          break;
        }
      }
    }
    return events;
  }

  private parseFooter(f: Uint8Array, at: number): ArchFooter {
    const { lastLength, dataVersion, count } = footerFields(f);
    const footer: { -readonly [K in keyof ArchFooter]: ArchFooter[K] } = { lastLength, dataVersion, count, offset: at };
    if (this.views) footer.raw = f;
    if (this.check !== false) {
      const problems = footerProblems(f, this.incLength, this.incDv, this.sha256);
      if (problems.length > 0) {
        if (this.check === 'report') footer.problems = problems;
        else
          throw new CldcbError(
            problems[0] === 'its checksum does not match' ? 'bad_checksum' : 'bad_input',
            `${this.what}: the footer at byte ${at} of the increment with data_version ${this.incDv} (starting at byte ${this.incStart}) is damaged: ${problems.join('; ')}`,
          );
      }
    }
    return footer;
  }

  /**
   * Framing-only walks (the server's open, which must not read gigabytes of snapshot): what
   * the reader needs next — `bytes` bytes at archive offset `offset` — and whether they are a
   * chunk's contents, which a positional reader may {@link skip} instead of reading.
   */
  get wants(): { readonly offset: number; readonly bytes: number; readonly chunkBody: boolean } {
    return { offset: this.pos + this.queued, bytes: this.need - this.queued, chunkBody: this.state === 'reuploadChunk' || this.state === 'incChunk' };
  }

  /**
   * Skip the chunk contents the reader is at (see {@link wants}); no event is emitted for it.
   * @throws CldcbError internal when the reader is not at the start of a chunk's contents.
   */
  skip(): void {
    if ((this.state !== 'reuploadChunk' && this.state !== 'incChunk') || this.queued > 0)
      throw new CldcbError('internal', 'ArchReader.skip outside a chunk (a bug in CLDCB).');
    if (this.state === 'incChunk') this.incLength += this.need;
    this.pos += this.need;
    this.state = this.state === 'incChunk' ? 'incLen' : 'reuploadLen';
    this.need = 2;
  }

  /**
   * End of input: the archive must end right after a footer, with ≥ 1 increment.
   * @param fileSize the file's size, for a framing-only walk that stopped before an item the
   *   file cuts (the bytes pushed otherwise).
   * @throws CldcbError truncated naming where the torn tail starts.
   */
  end(fileSize?: number): ArchEvent[] {
    const total = fileSize ?? this.pos + this.queued;
    if (this.state === 'incDv' && total === this.pos) {
      if (this.increments === 0)
        throw new CldcbError('truncated', `${this.what}: ends at byte ${total} after the reupload section, with no increment (an archive always has at least one).`);
      return [];
    }
    let where: string;
    switch (this.state) {
      case 'reuploadLen':
      case 'reuploadChunk':
        where = total === 0 ? 'the file is empty' : `inside the reupload section (${this.state === 'reuploadChunk' ? `chunk at byte ${this.itemStart}` : `length at byte ${this.pos}`})`;
        break;
      case 'incDv':
        where = `inside the data_version of an increment starting at byte ${this.pos}`;
        break;
      default:
        where = `inside the increment with data_version ${this.incDv} starting at byte ${this.incStart} (${this.state === 'footer' ? 'its footer' : this.state === 'incChunk' ? `chunk at byte ${this.itemStart}` : 'a chunk length'})`;
    }
    throw new CldcbError(
      'truncated',
      `${this.what}: torn tail — the file ends at byte ${total}, ${where}. The last complete increment ends at byte ${this.lastGoodEnd()}.`,
    );
  }

  /** Offset just after the last complete increment (or 0). */
  lastGoodEnd(): number {
    if (this.increments === 0) return 0;
    return this.state === 'incDv' ? this.pos : this.incStart;
  }
}

/**
 * Read a whole archive into events.
 * @throws CldcbError truncated / bad_checksum / bad_input with byte offsets.
 */
export function readArchive(bytes: Uint8Array, opts: ArchReaderOptions = {}): ArchEvent[] {
  const r = new ArchReader(opts);
  return [...r.push(bytes), ...r.end()];
}
