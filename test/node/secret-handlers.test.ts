/**
 * secret.loadFile: the file's bytes arrive as base64 and are decoded into memory of their own,
 * which the handler zeroizes once the secret is read — nothing of the file is left in a shared
 * pool (Node's Buffer.from(…, 'base64') slices a shared 8 KiB pool for small inputs).
 */
import { describe, expect, it, vi } from 'vitest';
import { testBackend } from './helpers/handlers';
import { encodeBase64 } from '../../shared/base64';

const seen = vi.hoisted(() => ({ bytes: [] as Uint8Array[] }));
vi.mock('../../shared/secrets/hsmSecret', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../shared/secrets/hsmSecret')>();
  return {
    ...real,
    // The handler reads binary files and text copies alike (decodeSecretFileContent).
    decodeSecretFileContent: (bytes: Uint8Array, opts?: Parameters<typeof real.decodeSecretFileContent>[1]) => {
      seen.bytes.push(bytes);
      return real.decodeSecretFileContent(bytes, opts);
    },
  };
});

describe('secret.loadFile', () => {
  it('decodes the file into its own memory and zeroizes it after reading the secret', async () => {
    const backend = testBackend();
    // A legacy 32-byte hsm_secret with a pattern to look for (made and encoded without Buffer).
    const file = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255);
    const r = await backend.dispatch('secret.loadFile', { fileName: 'hsm_secret', bytesB64: encodeBase64(file, false, true) }, 'app://x');
    expect(r).toMatchObject({ ok: true, value: { format: 'plain', secretLength: 32 } });
    expect(seen.bytes).toHaveLength(1);
    const [bytes] = seen.bytes;
    expect(bytes!.byteOffset).toBe(0);
    expect(bytes!.buffer.byteLength).toBe(32); // the whole memory, not a slice of a pool
    expect(bytes!.every((b) => b === 0)).toBe(true);
    // And no copy sits in Buffer's current pool (a small allocation is a slice of it).
    const pool = Buffer.from(Buffer.allocUnsafe(1).buffer); // a view of the whole pool, no copy
    expect(pool.indexOf(file), 'the file in the Buffer pool').toBe(-1);
    backend.dispose();
  });
});
