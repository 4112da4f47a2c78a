/**
 * Where the backup is, as a list (issue 11): each source is a copy of a server's directory
 * (offline) or a server itself (online, for this one action), and a recovery reads them all at
 * once — the node's servers and any older copies, mixed — so it can prove it has the newest state.
 * One switch turns online mode on for the action when any row is a server.
 */
import type { ReactNode } from 'react';
import { MAX_RECOVERY_SOURCES } from '../../../shared/cldcb/quorum';

export interface SourceRow {
  /** Stable id of the row: the backend keeps the folder chosen for it under this slot. */
  key: number;
  mode: 'dir' | 'server';
  dir: string | null;
  address: string;
  /** For a folder: the server's host:port for the fresh wrapper (a directory does not record it). */
  serverHost: string;
}

export interface SourceListState {
  rows: SourceRow[];
  online: boolean;
  nextKey: number;
}

const emptyRow = (key: number): SourceRow => ({ key, mode: 'dir', dir: null, address: '', serverHost: '' });
export const FIRST_SOURCES: SourceListState = { rows: [emptyRow(0)], online: false, nextKey: 1 };

/** Every row names its folder or server. */
export const sourcesReady = (s: SourceListState) => s.rows.every((r) => (r.mode === 'dir' ? Boolean(r.dir) : Boolean(r.address.trim())));

/** The rows as recover.startSearch takes them. */
export function searchRequest(s: SourceListState) {
  return {
    sources: s.rows.map((r) =>
      r.mode === 'dir'
        ? { kind: 'dir' as const, slot: r.key, ...(r.serverHost.trim() ? { serverHost: r.serverHost.trim() } : {}) }
        : { kind: 'server' as const, address: r.address.trim() },
    ),
    online: s.online,
  };
}

export const anyServer = (s: SourceListState) => s.rows.some((r) => r.mode === 'server');

export function SourceListFields({
  value,
  onChange,
  onChooseDir,
  dirError,
}: {
  value: SourceListState;
  onChange(v: SourceListState): void;
  /** Ask the backend for the folder of row `key` (its dialog); the chosen path comes back through onChange. */
  onChooseDir(key: number): void;
  /** The folder dialog's error, shown under the rows. */
  dirError?: ReactNode;
}) {
  const n = value.rows.length;
  const setRow = (key: number, patch: Partial<SourceRow>) => onChange({ ...value, rows: value.rows.map((r) => (r.key === key ? { ...r, ...patch } : r)) });
  const add = () => {
    const key = value.nextKey;
    onChange({ ...value, rows: [...value.rows, emptyRow(key)], nextKey: key + 1 });
    setTimeout(() => document.getElementById(`src-${key}-dir`)?.focus(), 0);
  };
  const remove = (key: number) => {
    const i = value.rows.findIndex((r) => r.key === key);
    const rows = value.rows.filter((r) => r.key !== key);
    onChange({ ...value, rows });
    const next = rows[Math.min(i, rows.length - 1)];
    setTimeout(() => next && document.getElementById(`src-${next.key}-${next.mode}`)?.focus(), 0);
  };
  return (
    <>
      <ol className="source-rows">
        {value.rows.map((r, i) => {
          const id = `src-${r.key}`;
          return (
            <li key={r.key} role="group" aria-label={`Source ${i + 1}`} className={n > 1 ? 'source-row several' : 'source-row'}>
              {n > 1 && (
                <div className="source-row-head">
                  <strong>Source {i + 1}</strong>
                  <button type="button" className="link" aria-label={`Remove source ${i + 1}`} onClick={() => remove(r.key)}>
                    Remove
                  </button>
                </div>
              )}
              <label>
                <input id={`${id}-dir`} type="radio" name={`${id}-kind`} checked={r.mode === 'dir'} onChange={() => setRow(r.key, { mode: 'dir' })} /> A copy of the
                backup server's directory (offline; ours or the original cldcb server's)
              </label>
              {r.mode === 'dir' && (
                <div className="stack">
                  <div className="row">
                    <button type="button" onClick={() => onChooseDir(r.key)}>
                      Choose folder…
                    </button>
                    <span className="mono small" data-testid={i === 0 ? 'recover-server-dir' : `recover-server-dir-${i + 1}`}>
                      {r.dir ?? 'no folder chosen'}
                    </span>
                  </div>
                  <label htmlFor={`${id}-host`}>The server's address (host:port) for the new plugin wrapper</label>
                  <input id={`${id}-host`} className="mono" spellCheck={false} value={r.serverHost} onChange={(e) => setRow(r.key, { serverHost: e.target.value })} />
                </div>
              )}
              <label>
                <input id={`${id}-server`} type="radio" name={`${id}-kind`} checked={r.mode === 'server'} onChange={() => setRow(r.key, { mode: 'server' })} /> The
                backup server itself (online)
              </label>
              {r.mode === 'server' && (
                <div className="stack">
                  <label htmlFor={`${id}-addr`}>Server (SID@HOST:PORT)</label>
                  <input id={`${id}-addr`} className="mono" spellCheck={false} value={r.address} onChange={(e) => setRow(r.key, { address: e.target.value })} />
                </div>
              )}
            </li>
          );
        })}
      </ol>
      {dirError}
      <div className="row">
        <button id="add-source" type="button" onClick={add} disabled={n >= MAX_RECOVERY_SOURCES}>
          Add another source
        </button>
        <span className="hint">
          With several backup servers, give all you can reach (and copies of their directories): the recovery reads them together, takes the newest and
          proves it is the newest when enough of the node's servers answer.
        </span>
      </div>
      {anyServer(value) && (
        <label className={value.online ? 'online-switch on' : 'online-switch'}>
          <input type="checkbox" checked={value.online} onChange={(e) => onChange({ ...value, online: e.target.checked })} /> Online mode for this action: allow
          the connection{value.rows.filter((r) => r.mode === 'server').length > 1 ? 's' : ''} to the server
          {value.rows.filter((r) => r.mode === 'server').length > 1 ? 's' : ''} above (Noise_XK, encrypted), once you confirm it. Everything else stays
          offline.
        </label>
      )}
    </>
  );
}
