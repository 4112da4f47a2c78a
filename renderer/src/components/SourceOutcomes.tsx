/**
 * What each source of a recovery search gave, where the operator is looking (issue 12 §1): one row
 * per source — read (entries, archives, backups of this node) or failed (why) — and a conclusion
 * that says "no backup found" only when every source was read and none held one. A source that
 * could not be read is never reported as "no backup": that would send the operator to force-close
 * every channel over a network hiccup. (Several servers — issue 11 — add rows, not a new screen.)
 */
import type { SearchView, SourceOutcomeView } from '../../../shared/ipc/contract';

const KIND: Record<string, string> = { serverDir: 'copy of a server directory', server: 'backup server (online)', archive: 'archive file' };
const n = (x: number) => x.toLocaleString('en-US');

export type SearchConclusion = 'found' | 'none-found' | 'sources-failed';

export function conclusion(r: SearchView): SearchConclusion {
  if (r.candidates.length > 0) return 'found';
  return r.sources.every((s) => !s.error) ? 'none-found' : 'sources-failed';
}

function SourceRow({ s }: { s: SourceOutcomeView }) {
  return (
    <li className={s.error ? 'source failed' : 'source'} data-testid="source-outcome">
      <div className="source-head">
        <span className={s.error ? 'pill failed' : 'pill read'}>{s.error ? 'could not be read' : 'read'}</span>
        <span className="source-label">{s.label}</span>
        <span className="hint">{KIND[s.kind] ?? s.kind}</span>
      </div>
      {s.error ? (
        <p className="source-error">{s.error.message}</p>
      ) : (
        <p className="hint">
          {n(s.records)} entr{s.records === 1 ? 'y' : 'ies'}, {n(s.archives)} archive{s.archives === 1 ? '' : 's'} ·{' '}
          <strong>
            {s.ours} backup{s.ours === 1 ? '' : 's'} of this node
          </strong>
          {s.speaksV1 !== undefined ? ` · ${s.speaksV1 ? 'speaks our extension (v1)' : 'original cldcb server'}` : ''}
        </p>
      )}
      {s.notes.length > 0 && (
        <ul className="hint">
          {s.notes.map((x, i) => (
            <li key={i}>{x}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

export function SourceOutcomes({ result }: { result: SearchView }) {
  return (
    <ul className="sources" aria-label="Sources searched">
      {result.sources.map((s, i) => (
        <SourceRow key={i} s={s} />
      ))}
    </ul>
  );
}
