/**
 * The renderer's only path to the backend: `window.api`, typed from the shared
 * contract (the preload builds it in Electron; the e2e harness builds the same
 * object over Playwright's exposeBinding).
 */
import type { Api } from '../../shared/ipc/contract';
import type { ErrorData, Result } from '../../shared/errors';

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

export function fileToBase64(file: File): Promise<string> {
  return file.arrayBuffer().then((buf) => {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    bytes.fill(0);
    return btoa(s);
  });
}
