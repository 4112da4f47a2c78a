/**
 * SHA-256 of the snapshot for the v1 chain (docs/PROTOCOL.md §3), measured in
 * scripts/bench/recover.bench.ts: with SHA-NI, SHA-256 runs at about the speed of
 * ChaCha20-Poly1305, so hashing inline halves the unseal rate. Large snapshots are hashed on a
 * second core instead: plaintext chunks are transferred (not copied) to a small worker thread,
 * at most 32 MiB in flight, and the digest is fetched synchronously at the end (Atomics.wait +
 * receiveMessageOnPort), so the synchronous scan loop stays synchronous.
 */
import { createHash } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { CldcbError } from '../../errors';

/** Snapshots below this are hashed inline (a worker costs ~20 ms to start). */
export const PARALLEL_HASH_MIN = 16 << 20;
const MAX_IN_FLIGHT = 512; // chunks (~32 MiB)

const HASHER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { port, sab } = workerData;
const state = new Int32Array(sab);
const h = createHash('sha256');
port.on('message', (m) => {
  if (m === null) {
    port.postMessage(h.digest());
    Atomics.store(state, 0, 1);
    Atomics.notify(state, 0);
    port.close();
    return;
  }
  h.update(m);
  Atomics.add(state, 1, 1);
  Atomics.notify(state, 1);
});
`;

/** SHA-256 of a stream of chunks, inline or on another thread. */
export class SnapshotHasher {
  private inline = createHash('sha256');
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private state: Int32Array | undefined;
  private posted = 0;
  private bytes = 0;

  /** @param expectedBytes a size hint: large snapshots get a hashing thread. */
  constructor(expectedBytes: number) {
    if (expectedBytes < PARALLEL_HASH_MIN) return;
    try {
      const { port1, port2 } = new MessageChannel();
      const sab = new SharedArrayBuffer(8);
      this.worker = new Worker(HASHER_SOURCE, { eval: true, workerData: { port: port2, sab }, transferList: [port2] });
      this.worker.unref();
      this.port = port1;
      this.state = new Int32Array(sab);
    } catch {
      this.worker = undefined; // no threads here: hash inline
    }
  }

  /** Add a chunk. Takes ownership of `chunk` (it may be transferred to the hashing thread). */
  update(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    if (!this.worker) {
      this.inline.update(chunk);
      return;
    }
    while (this.posted - Atomics.load(this.state!, 1) >= MAX_IN_FLIGHT) Atomics.wait(this.state!, 1, Atomics.load(this.state!, 1), 1000);
    const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && !(chunk.buffer instanceof SharedArrayBuffer);
    const c = own ? chunk : new Uint8Array(chunk);
    this.port!.postMessage(c, [c.buffer as ArrayBuffer]);
    this.posted++;
  }

  get size(): number {
    return this.bytes;
  }

  /** The digest (32 bytes). @throws CldcbError internal if the hashing thread died. */
  digest(): Uint8Array {
    if (!this.worker) return new Uint8Array(this.inline.digest());
    this.port!.postMessage(null);
    const deadline = Date.now() + 600_000;
    while (Atomics.load(this.state!, 0) === 0) {
      if (Date.now() > deadline) throw new CldcbError('internal', 'The snapshot hashing thread stopped answering (a bug in CLDCB).');
      Atomics.wait(this.state!, 0, 0, 1000);
    }
    const m = receiveMessageOnPort(this.port!);
    this.dispose();
    if (!m) throw new CldcbError('internal', 'The snapshot hashing thread gave no digest (a bug in CLDCB).');
    const d = m.message as Uint8Array;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  }

  dispose(): void {
    this.port?.close();
    void this.worker?.terminate();
    this.worker = undefined;
  }
}
