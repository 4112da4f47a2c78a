import { useEffect, useState } from 'react';
import type { SheetView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';

export function PrintSheet({ secret, run }: ScreenProps) {
  const [id, setId] = useState('cldc');
  const [sheet, setSheet] = useState<SheetView | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const idValid = /^[02-9ac-hj-np-z]{4}$/.test(id);

  useEffect(() => {
    if (!secret || !idValid) return;
    void run(() => call(api().paper.sheet({ id }))).then((s) => s && setSheet(s));
  }, [secret, id, idValid, run]);

  if (!secret) return null;
  return (
    <section aria-labelledby="sheet-title">
      <h1 id="sheet-title" tabIndex={-1}>
        Print a paper sheet
      </h1>
      <p>
        Write or print this and keep it somewhere safe and offline. Anyone who reads it can take your funds.
      </p>
      <label htmlFor="codex-id">codex32 identifier (4 characters, no 1 b i o)</label>
      <input id="codex-id" className="mono short" value={id} maxLength={4} onChange={(e) => setId(e.target.value.toLowerCase())} />
      {sheet && (
        <article className="sheet" data-testid="sheet">
          {sheet.lines.length > 0 && (
            <table className="sheet-hex">
              <tbody>
                {sheet.lines.map((l) => (
                  <tr key={l.index}>
                    <th scope="row">{l.index + 1}</th>
                    {l.groups.map((g, i) => (
                      <td key={i}>{g}</td>
                    ))}
                    <td className="check">✓ {l.check}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {sheet.words && <ol className="sheet-words">{sheet.words.map((w, i) => <li key={i}>{w}</li>)}</ol>}
          {sheet.codex32 && (
            <p className="mono sheet-codex32">
              codex32 ({sheet.codex32Id}): {sheet.codex32}
            </p>
          )}
          <p>Node id: {sheet.nodeIdGroups.join(' ')}</p>
          <p className="write-here">Node id written by hand: ______________________________________________</p>
        </article>
      )}
      <button
        type="button"
        disabled={!sheet}
        onClick={() => void run(() => call(api().paper.printPdf({ id }))).then((r) => r && setSaved(r.path))}
      >
        Save as PDF…
      </button>
      {saved && (
        <p role="status" className="verdict ok">
          Saved to {saved}
        </p>
      )}
    </section>
  );
}
