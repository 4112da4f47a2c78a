/**
 * An archive's increments as the framer's events arrive (cldcb-protocol §5, §6.1; extension
 * v1, docs/PROTOCOL.md §3): each increment's chunks opened in archive order (IncrementStreams:
 * a stream of its own, or continuing the last one), its plaintext read (IncrementReader: any
 * kind), its statements classified (StatementBytesFacts) and the increment summarised for the
 * chain planner. The one increment reader at archive level: the recovery's passes, its
 * pipeline's feeder and the tests' decoder all read increments through it.
 */
import { CldcbError } from '../errors';
import type { ArchFooter } from './arch';
import { summarizeIncrement, type IncrementSummary } from './chain';
import { IncrementReader, nobleIncrementalHash, type IncrementalHash, type IncrementEnd, type StatementSink } from './plaintexts';
import type { IncrementStreams } from './seal';
import { StatementBytesFacts } from './statements';

/** The increment being read. */
export interface IncrementInProgress {
  /** Position in the archive (0-based). */
  readonly index: number;
  /** data_version in the archive framing (not authenticated). */
  readonly framingDv: number;
  /** Byte offset in the archive file (0 for events from the network). */
  readonly offset: number;
  /** Names it in messages: "<archive>: increment 7 (data_version 12)". */
  readonly what: string;
  readonly reader: IncrementReader;
  readonly facts: StatementBytesFacts;
  chunks: number;
}

export interface IncrementReadOptions {
  /** The plaintext hash (node:crypto's on Node); default noble. */
  readonly hash?: () => IncrementalHash;
  /** Return each chunk's statements as strings (the tests' decoder); default false (bytes to the sink only). */
  readonly decode?: boolean;
  /** Also hand each statement of this increment to the caller (after the facts saw it). */
  readonly sink?: (inc: IncrementInProgress) => StatementSink | undefined;
  /** Also hash each increment's statements part (IncrementSummary.bodyHash: comparing servers). */
  readonly bodyHash?: () => IncrementalHash;
}

export class ArchiveIncrements {
  private cur: IncrementInProgress | undefined;
  private done = 0;

  /**
   * @param streams opens the chunks (the caller owns and disposes it).
   * @param what names the archive in messages.
   */
  constructor(
    private readonly streams: IncrementStreams,
    private readonly what: string,
    private readonly opts: IncrementReadOptions = {},
  ) {}

  /** Complete increments read so far (= the index of the next one). */
  get count(): number {
    return this.done;
  }

  /** The increment being read, if any. */
  get current(): IncrementInProgress | undefined {
    return this.cur;
  }

  /** An `incrementStart` event. */
  start(framingDv: number, offset = 0): IncrementInProgress {
    const what = `${this.what}: increment ${this.done} (data_version ${framingDv})`;
    const facts = new StatementBytesFacts(what);
    const inc: { -readonly [K in keyof IncrementInProgress]: IncrementInProgress[K] } = {
      index: this.done,
      framingDv,
      offset,
      what,
      reader: undefined as unknown as IncrementReader,
      facts,
      chunks: 0,
    };
    const extra = this.opts.sink?.(inc);
    const sink: StatementSink = extra
      ? {
          statement(b, i) {
            facts.statement(b);
            extra.statement(b, i);
          },
        }
      : facts;
    inc.reader = new IncrementReader((this.opts.hash ?? nobleIncrementalHash)(), what, sink, this.opts.decode ?? false, this.opts.bodyHash?.());
    this.cur = inc;
    return inc;
  }

  /**
   * An `incrementChunk` event: open it and read its statements.
   * @returns the plaintext piece (a fresh buffer) and, with `decode`, the statements it completed.
   * @throws CldcbError not_authentic (the chunk does not open), bad_input / unsupported / archive_lost_writes (its plaintext).
   */
  chunk(chunk: Uint8Array): { readonly plaintext: Uint8Array; readonly statements: string[] } {
    const c = this.cur;
    if (!c) throw new CldcbError('bad_input', `${this.what}: an increment chunk outside an increment.`);
    const plaintext = this.streams.open(c.index, c.chunks, chunk, c.what);
    c.chunks++;
    return { plaintext, statements: c.reader.push(plaintext) };
  }

  /**
   * An `incrementEnd` event.
   * @throws CldcbError truncated (no chunk, or the plaintext ended early).
   */
  end(footer?: ArchFooter): { readonly summary: IncrementSummary; readonly end: IncrementEnd; readonly inc: IncrementInProgress } {
    const c = this.cur;
    if (!c) throw new CldcbError('bad_input', `${this.what}: an increment end outside an increment.`);
    this.cur = undefined;
    if (c.chunks === 0) throw new CldcbError('truncated', `${this.what}: increment ${c.index} (data_version ${c.framingDv}, byte ${c.offset}) has no sealed chunk.`);
    const end = c.reader.finish();
    this.done++;
    const summary = summarizeIncrement({ index: c.index, framingDv: c.framingDv, chunks: c.chunks, offset: c.offset, ...(footer ? { footerCount: footer.count } : {}) }, end, c.facts);
    return { summary, end, inc: c };
  }

  /** The key of the stream the last opened increment belongs to (a later pass may reuse it). */
  get streamKey(): Uint8Array | undefined {
    return this.streams.streamKey;
  }
}
