import { useState } from 'react';
import type { ScreenProps } from '../App';
import { api, call } from '../api';

export function ExportSecret({ secret, run }: ScreenProps) {
  const [format, setFormat] = useState<'plain' | 'mnemonic'>(secret?.hasMnemonic ? 'mnemonic' : 'plain');
  const [written, setWritten] = useState<string | null>(null);
  const [shown, setShown] = useState<string | null>(null);
  const [codexId, setCodexId] = useState('cldc');
  const [passphrase, setPassphrase] = useState('');
  if (!secret) return null;
  const canPlain = secret.secretLength === 32;
  return (
    <section aria-labelledby="export-title">
      <h1 id="export-title" tabIndex={-1}>
        Export the secret
      </h1>
      <fieldset>
        <legend>Write an hsm_secret file (mode 0400; an existing file is never overwritten)</legend>
        <label>
          <input type="radio" name="fmt" checked={format === 'plain'} disabled={!canPlain} onChange={() => setFormat('plain')} />{' '}
          Plain 32 bytes (every Core Lightning version)
          {!canPlain && ' — not possible: this secret is a 64-byte mnemonic seed; plain would change your wallet'}
        </label>
        <label>
          <input
            type="radio"
            name="fmt"
            checked={format === 'mnemonic'}
            disabled={!secret.hasMnemonic}
            onChange={() => setFormat('mnemonic')}
          />{' '}
          Mnemonic format (v25.12+){!secret.hasMnemonic && ' — not possible: no words are known for this secret'}
        </label>
        {format === 'mnemonic' && secret.format === 'mnemonic-passphrase' && (
          <>
            <label htmlFor="export-pass">BIP39 passphrase (the file stores its hash, so lightningd can check it)</label>
            <input id="export-pass" type="password" autoComplete="off" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
          </>
        )}
        <button
          type="button"
          onClick={() =>
            void run(() =>
              call(api().secret.export({ format, ...(format === 'mnemonic' && passphrase ? { passphrase } : {}) })),
            ).then((r) => r && setWritten(r.path))
          }
        >
          Save hsm_secret…
        </button>
        {written && (
          <p role="status" className="verdict ok">
            Written to {written}
          </p>
        )}
      </fieldset>
      <fieldset>
        <legend>Show the secret (as lightning-hsmtool getsecret does)</legend>
        {canPlain && (
          <div className="row">
            <label htmlFor="reveal-id">codex32 id</label>
            <input id="reveal-id" className="mono short" maxLength={4} value={codexId} onChange={(e) => setCodexId(e.target.value)} />
            <button
              type="button"
              onClick={() => void run(() => call(api().secret.reveal({ as: 'codex32', id: codexId }))).then((r) => r && setShown(r.text))}
            >
              Show as codex32
            </button>
          </div>
        )}
        {secret.hasMnemonic && (
          <button type="button" onClick={() => void run(() => call(api().secret.reveal({ as: 'words' }))).then((r) => r && setShown(r.text))}>
            Show words
          </button>
        )}
        {shown && (
          <div className="revealed">
            <p className="mono" data-testid="revealed">
              {shown}
            </p>
            <button type="button" onClick={() => setShown(null)}>
              Hide
            </button>
          </div>
        )}
      </fieldset>
    </section>
  );
}
