/**
 * The recovery download (cldcb-protocol §3.3): the server's messages 114, 116, 118, 120, 122
 * as archive events, so a download is read by the same framer-side code as an `.arch` file.
 */
import { CldcbError } from '../errors';
import type { ArchEvent } from './arch';
import type { CldcbMessage } from './messages';

/**
 * Turns the server's recovery messages (114, 116, 118, 120, 122) into archive events
 * (without footers: they are not transmitted). `done` becomes true at 122; a stream
 * that ends before it is a failure (the server disconnects on read errors).
 */
export class RecoveryAssembler {
  private phase: 'reupload' | 'between' | 'increment' | 'done' = 'reupload';

  get done(): boolean {
    return this.phase === 'done';
  }

  /**
   * @returns events for this message (ping/pong give none).
   * @throws CldcbError protocol_error for a message out of sequence.
   */
  push(m: CldcbMessage): ArchEvent[] {
    const bad = (): never => {
      throw new CldcbError('protocol_error', `recovery download: unexpected ${m.type} ${this.phase === 'done' ? 'after the end' : `in the ${this.phase} part`}.`);
    };
    switch (m.type) {
      case 'ping':
      case 'pong':
        return [];
      case 'response_backedup_reupload_chunk':
        if (this.phase !== 'reupload') bad();
        return [{ type: 'reuploadChunk', chunk: m.chunk }];
      case 'response_backedup_reupload_end':
        if (this.phase !== 'reupload') bad();
        this.phase = 'between';
        return [{ type: 'reuploadEnd' }];
      case 'response_backedup_incremental_new': {
        if (this.phase !== 'between' && this.phase !== 'increment') bad();
        const out: ArchEvent[] = this.phase === 'increment' ? [{ type: 'incrementEnd' }] : [];
        this.phase = 'increment';
        out.push({ type: 'incrementStart', dataVersion: m.dataVersion });
        return out;
      }
      case 'response_backedup_incremental_chunk':
        if (this.phase !== 'increment') bad();
        return [{ type: 'incrementChunk', chunk: m.chunk }];
      case 'response_backedup_incremental_endall': {
        if (this.phase !== 'between' && this.phase !== 'increment') bad();
        const out: ArchEvent[] = this.phase === 'increment' ? [{ type: 'incrementEnd' }] : [];
        this.phase = 'done';
        return out;
      }
      default:
        return bad();
    }
  }

  /** @throws CldcbError truncated when 122 has not arrived. */
  end(): void {
    if (this.phase !== 'done') throw new CldcbError('truncated', 'recovery download: the server stopped before the end marker (message 122); the backup is incomplete.');
  }
}
