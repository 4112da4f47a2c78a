import { useRef, useState } from 'react';
import type { CredentialResult } from '../../../../shared/ipc/contract';
import { api, call } from '../../api';
import { ActionError, ResultRegion, useAction } from '../../components/Feedback';
import { CredentialDetails } from './CredentialDetails';

/** A new credential: the text to copy, save, show as QR code, or check. */
export function ResultPanel({ result, testId, onCheck }: { result: CredentialResult; testId: string; onCheck(text: string): void }) {
  const box = useRef<HTMLTextAreaElement | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const saveAction = useAction();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(result.text);
      setCopied('Copied.');
    } catch {
      // The app's window grants no permissions; selecting the text and copying still works.
      box.current?.select();
      setCopied(document.execCommand('copy') ? 'Copied.' : 'Selected: press Ctrl+C to copy.');
    }
  };
  const save = (binary: boolean) =>
    void saveAction.run(() => call(api().cred.save({ kind: result.kind, text: result.text, ...(binary ? { binary } : {}) }))).then((r) => r && setSaved(r.path));
  return (
    <ResultRegion show={result} className="cred-result" testId={testId}>
      <label htmlFor={`${testId}-text`}>
        New {result.kind === 'rune' ? 'rune' : `macaroon (${result.format})`}
        {result.added.length > 0 && ` — added: ${result.added.join('; ')}`}
      </label>
      <textarea id={`${testId}-text`} ref={box} className="mono" readOnly rows={result.kind === 'rune' ? 2 : 5} value={result.text} data-testid={`${testId}-text`} />
      <div className="row">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={() => save(false)}>
          Save as text…
        </button>
        {result.kind === 'macaroon' && (
          <button type="button" onClick={() => save(true)}>
            Save as .macaroon file…
          </button>
        )}
        <button type="button" onClick={() => onCheck(result.text)}>
          Check this one
        </button>
        {copied && <span role="status">{copied}</span>}
      </div>
      <ActionError action={saveAction} />
      {saved && (
        <p role="status" className="verdict ok">
          Saved to {saved} (readable only by you).
        </p>
      )}
      <div className="row cred-result-body">
        {result.qrSvgDataUrl ? (
          <img className="qr" src={result.qrSvgDataUrl} alt={`QR code of the new ${result.kind}`} />
        ) : (
          <p className="hint">Too large for a QR code a phone can scan: save it as a file.</p>
        )}
        <CredentialDetails view={result.view} testId={`${testId}-details`} />
      </div>
    </ResultRegion>
  );
}
