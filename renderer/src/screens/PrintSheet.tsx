import { useEffect, useState } from 'react';
import type { SheetView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';

const CODEX32_ID = /^[02-9ac-hj-np-z]{4}$/;

function HexLines({ sheet }: { sheet: SheetView }) {
  return (
    <table className="sheet-hex">
      <tbody>
        {sheet.lines.map((l) => (
          <tr key={l.index}>
            <th scope="row">line {l.index + 1}</th>
            {l.groups.map((g, i) => (
              <td key={i}>{g}</td>
            ))}
            <td className="check">✓ {l.check}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PrintSheet({ secret }: ScreenProps) {
  const [id, setId] = useState('cldc');
  const [sheet, setSheet] = useState<SheetView | null>(null);
  const [pdfAsked, setPdfAsked] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const sheetAction = useAction();
  const printAction = useAction();
  const idValid = CODEX32_ID.test(id);
  const { run: runSheet } = sheetAction;

  useEffect(() => {
    if (!secret || !idValid) return;
    void runSheet(() => call(api().paper.sheet({ id }))).then((s) => s && setSheet(s));
  }, [secret, id, idValid, runSheet]);

  if (!secret) return null;
  const mnemonic = Boolean(sheet?.words);
  const print = async () => {
    setOutcome(null);
    const r = await printAction.run(() => call(api().paper.print({ id })));
    setOutcome(r ? 'Sent to the printer.' : r === null ? 'Printing cancelled: nothing was printed.' : null);
  };
  const savePdf = async () => {
    setPdfAsked(false);
    setOutcome(null);
    const r = await printAction.run(() => call(api().paper.printPdf({ id })));
    if (r) setOutcome(`Saved to ${r.path}. This file is your secret: print it, then delete it (and empty the trash).`);
  };

  return (
    <section aria-labelledby="sheet-title">
      <h1 id="sheet-title" tabIndex={-1}>
        Print a paper sheet
      </h1>
      <p>Write or print this and keep it somewhere safe and offline. Anyone who reads it can take your funds.</p>
      {(!sheet || sheet.codex32) && (
        <div className="field">
          <label htmlFor="codex-id">codex32 identifier (4 characters, no 1 b i o)</label>
          <input
            id="codex-id"
            className="mono short"
            value={id}
            maxLength={4}
            aria-invalid={!idValid || undefined}
            onChange={(e) => setId(e.target.value.toLowerCase())}
          />
          {!idValid && <p className="hint">4 characters from the codex32 alphabet (letters and digits except 1, b, i, o).</p>}
        </div>
      )}
      <ActionError action={sheetAction} />
      {sheet && (
        <article className="sheet" data-testid="sheet">
          {sheet.words && (
            <>
              <h2>Your {sheet.words.length} words — the complete backup of this node</h2>
              <ol className="sheet-words">
                {sheet.words.map((w, i) => (
                  <li key={i}>{w}</li>
                ))}
              </ol>
            </>
          )}
          <p>
            Node id: <span className="mono">{sheet.nodeIdGroups.join(' ')}</span>
          </p>
          {sheet.lines.length > 0 && (
            <>
              {mnemonic && (
                <h2>
                  Only for <code>lightningd --recover</code>: the first 32 bytes of the seed. They restore the node id and channels, NOT the
                  on-chain wallet — the words above do.
                </h2>
              )}
              <HexLines sheet={sheet} />
            </>
          )}
          {sheet.codex32 && (
            <p className="mono sheet-codex32">
              codex32 ({sheet.codex32Id}): {sheet.codex32}
            </p>
          )}
          <p className="write-here">Node id written by hand: ______________________________________________</p>
        </article>
      )}
      <div className="row">
        <button type="button" className="primary" disabled={!sheet || printAction.busy} onClick={() => void print()}>
          Print…
        </button>
        <button type="button" disabled={!sheet || printAction.busy} onClick={() => setPdfAsked(true)}>
          Save as PDF…
        </button>
      </div>
      <p className="hint">Print goes straight to the printer: no file is left behind. Prefer it, or copy the sheet by hand.</p>
      {pdfAsked && (
        <div className="callout warn" role="alertdialog" aria-labelledby="pdf-warning" data-testid="pdf-warning">
          <p id="pdf-warning">
            <strong>A PDF of this sheet is a copy of your secret.</strong> Anyone who gets the file — a backup, a cloud sync, a print queue,
            a shared Downloads folder — can take your funds. Save it only to print it, and delete it right after.
          </p>
          <div className="row">
            <button type="button" className="danger" onClick={() => void savePdf()}>
              I understand — save the PDF
            </button>
            <button type="button" autoFocus onClick={() => setPdfAsked(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <ActionError action={printAction} />
      {outcome && (
        <ResultRegion show={outcome}>
          <p role="status" className="verdict ok">
            {outcome}
          </p>
        </ResultRegion>
      )}
    </section>
  );
}
