import { useState } from 'react';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { SecretInput } from '../components/SecretField';

export function ExportSecret({ secret }: ScreenProps) {
  const [format, setFormat] = useState<'plain' | 'mnemonic'>(secret?.hasMnemonic ? 'mnemonic' : 'plain');
  const [written, setWritten] = useState<string | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const [codexId, setCodexId] = useState('cldc');
  const [passphrase, setPassphrase] = useState('');
  const exportAction = useAction();
  const revealAction = useAction();
  if (!secret) return null;
  const canPlain = secret.secretLength === 32;
  const save = () =>
    void exportAction
      .run(() => call(api().secret.export({ format, ...(format === 'mnemonic' && passphrase ? { passphrase } : {}) })))
      .then((r) => r && setWritten(r.path));
  const reveal = (as: 'codex32' | 'words') =>
    void revealAction.run(() => call(api().secret.reveal(as === 'codex32' ? { as, id: codexId } : { as }))).then((r) => r && setShown(r.text));
  return (
    <section aria-labelledby="export-title">
      <h1 id="export-title" tabIndex={-1}>
        Export the secret
      </h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <fieldset>
          <legend>Write an hsm_secret file (mode 0400; an existing file is never overwritten)</legend>
          <label>
            <input type="radio" name="fmt" checked={format === 'plain'} disabled={!canPlain} onChange={() => setFormat('plain')} /> Plain 32 bytes
            (every Core Lightning version)
            {!canPlain && ' — not possible: this secret is a 64-byte mnemonic seed; plain would change your wallet'}
          </label>
          <label>
            <input type="radio" name="fmt" checked={format === 'mnemonic'} disabled={!secret.hasMnemonic} onChange={() => setFormat('mnemonic')} />{' '}
            Mnemonic format (v25.12+){!secret.hasMnemonic && ' — not possible: no words are known for this secret'}
          </label>
          {format === 'mnemonic' && secret.format === 'mnemonic-passphrase' && (
            <SecretInput
              id="export-pass"
              label="BIP39 passphrase (the file stores its hash, so lightningd can check it)"
              value={passphrase}
              onChange={setPassphrase}
            />
          )}
          <button type="submit">Save hsm_secret…</button>
          <ActionError action={exportAction} />
          {written && (
            <ResultRegion show={written}>
              <p role="status" className="verdict ok">
                Written to {written}
              </p>
            </ResultRegion>
          )}
        </fieldset>
      </form>
      <fieldset>
        <legend>Show the secret (as lightning-hsmtool getsecret does)</legend>
        {canPlain && (
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              reveal('codex32');
            }}
          >
            <label htmlFor="reveal-id">codex32 id</label>
            <input id="reveal-id" className="mono short" maxLength={4} value={codexId} onChange={(e) => setCodexId(e.target.value)} />
            <button type="submit">Show as codex32</button>
          </form>
        )}
        {secret.hasMnemonic && (
          <button type="button" onClick={() => reveal('words')}>
            Show words
          </button>
        )}
        <ActionError action={revealAction} />
        {shown && (
          <ResultRegion show={shown} className="revealed">
            <p className="mono" data-testid="revealed">
              {shown}
            </p>
            <button type="button" onClick={() => setShown(null)}>
              Hide
            </button>
          </ResultRegion>
        )}
      </fieldset>
    </section>
  );
}
