/**
 * The renderer's only path to the backend: `window.api`, typed from the shared
 * contract (the preload builds it in Electron; the e2e harness builds the same
 * object over Playwright's exposeBinding).
 */
import type { Api } from '../../shared/ipc/contract';
import type { ErrorData, Result } from '../../shared/errors';
import { encodeBase64 } from '../../shared/base64';

declare global {
  interface Window {
    api: Api;
  }
}

export const api = (): Api => window.api;

/** Unwrap a Result, throwing its ErrorData so one UI surface can show it. */
export async function call<T>(p: Promise<Result<T>>): Promise<T> {
  const r = await p;
  if (!r.ok) throw r.error;
  return r.value;
}

export function isErrorData(e: unknown): e is ErrorData {
  return typeof e === 'object' && e !== null && 'code' in e && 'message' in e;
}

/** A dropped file's bytes as base64 for IPC; the bytes are zeroed once encoded. */
export function fileToBase64(file: File): Promise<string> {
  return file.arrayBuffer().then((buf) => {
    const bytes = new Uint8Array(buf);
    try {
      return encodeBase64(bytes, false, true);
    } finally {
      bytes.fill(0);
    }
  });
}
