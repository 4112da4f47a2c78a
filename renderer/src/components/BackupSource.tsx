/**
 * Where the backup is: a copy of the server's directory (offline) or the server itself (online,
 * for this one action): the Drill screen's question. The Recover screen reads several sources at
 * once (issue 11): SourceList.tsx.
 */
import type { ReactNode } from 'react';

export type SourceMode = 'dir' | 'server';

export interface BackupSourceState {
  mode: SourceMode;
  dir: string | null;
  address: string;
  online: boolean;
}

export const EMPTY_SOURCE: BackupSourceState = { mode: 'dir', dir: null, address: '', online: false };

/** The source is complete enough to search. */
export const sourceReady = (s: BackupSourceState) => (s.mode === 'dir' ? Boolean(s.dir) : Boolean(s.address.trim()));

export function BackupSourceFields({
  id,
  value,
  onChange,
  onChooseDir,
  chooseLabel = 'Choose folder…',
  dirExtra,
}: {
  /** Prefix of the fields' ids (two screens may show the fields). */
  id: string;
  value: BackupSourceState;
  onChange(v: BackupSourceState): void;
  /** Ask the backend for the folder (its dialog); the chosen path comes back through onChange. */
  onChooseDir(): void;
  chooseLabel?: string;
  /** More fields under the folder choice (Recover: the server's address for the new wrapper). */
  dirExtra?: ReactNode;
}) {
  const set = (patch: Partial<BackupSourceState>) => onChange({ ...value, ...patch });
  return (
    <>
      <label>
        <input type="radio" name={`${id}-src`} checked={value.mode === 'dir'} onChange={() => set({ mode: 'dir' })} /> A copy of the backup server's
        directory (offline; ours or the original cldcb server's)
      </label>
      {value.mode === 'dir' && (
        <div className="stack">
          <div className="row">
            <button type="button" onClick={onChooseDir}>
              {chooseLabel}
            </button>
            <span className="mono small" data-testid={`${id}-server-dir`}>
              {value.dir ?? 'no folder chosen'}
            </span>
          </div>
          {dirExtra}
        </div>
      )}
      <label>
        <input type="radio" name={`${id}-src`} checked={value.mode === 'server'} onChange={() => set({ mode: 'server' })} /> The backup server itself
        (online)
      </label>
      {value.mode === 'server' && (
        <div className="stack">
          <label htmlFor={`${id}-server-addr`}>Server (SID@HOST:PORT)</label>
          <input id={`${id}-server-addr`} className="mono" spellCheck={false} value={value.address} onChange={(e) => set({ address: e.target.value })} />
          <label className={value.online ? 'online-switch on' : 'online-switch'}>
            <input type="checkbox" checked={value.online} onChange={(e) => set({ online: e.target.checked })} /> Online mode for this action: allow
            this one connection to the server (Noise_XK, encrypted), once you confirm it. Everything else stays offline.
          </label>
        </div>
      )}
    </>
  );
}
