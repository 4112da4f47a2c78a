import { useMemo, useState, type DragEvent } from 'react';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import type { ScreenProps } from '../App';
import { api, call, fileToBase64 } from '../api';

type Tab = 'file' | 'text';
type Meaning = 'mnemonic-format' | 'legacy-generatehsm';

/** What the typed text looks like (a hint only: the backend decides). */
export function textKind(text: string): 'hex' | 'words' | 'codex32' | 'empty' {
  const t = text.trim();
  if (!t) return 'empty';
  if (/^cl1/i.test(t)) return 'codex32';
  if (/^[0-9a-fA-F\s-]+$/.test(t)) return 'hex';
  // A hex copy with a stray typo (e.g. "g46e") is still a hex copy: mostly hex digits and no BIP39 word.
  const compact = t.replace(/[\s-]/g, '');
  const hexish = compact.replace(/[^0-9a-fA-F]/g, '').length;
  const hasWord = t.toLowerCase().split(/\s+/).some((w) => wordlist.includes(w));
  if (!hasWord && hexish >= 0.85 * compact.length) return 'hex';
  return 'words';
}

function lastWord(text: string): string {
  const m = /([a-z]+)$/i.exec(text);
  return m ? m[1]!.toLowerCase() : '';
}

export function ImportSecret({ setSecret, go, run }: ScreenProps) {
  const [tab, setTab] = useState<Tab>('file');
  const [file, setFile] = useState<File | null>(null);
  const [needPass, setNeedPass] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [text, setText] = useState('');
  const [meaning, setMeaning] = useState<Meaning>('mnemonic-format');
  const [busy, setBusy] = useState(false);
  const kind = textKind(text);
  const partial = kind === 'words' ? lastWord(text) : '';
  const suggestions = useMemo(
    () => (partial.length >= 2 && !wordlist.includes(partial) ? wordlist.filter((w) => w.startsWith(partial)).slice(0, 6) : []),
    [partial],
  );
  const wordCount = kind === 'words' ? text.trim().split(/\s+/).length : 0;
  const hexDigits = kind === 'hex' ? text.replace(/[\s-]/g, '').length : 0;

  const loadFile = async (f: File, pass?: string) => {
    setBusy(true);
    const info = await run(async () => {
      try {
        return await call(api().secret.loadFile({ fileName: f.name, bytesB64: await fileToBase64(f), passphrase: pass }));
      } catch (e) {
        if ((e as { code?: string }).code === 'passphrase_required') setNeedPass(true);
        throw e;
      }
    });
    setBusy(false);
    if (info) {
      setSecret(info);
      setPassphrase('');
      go('nodeid');
    }
  };

  const loadText = async () => {
    setBusy(true);
    const info = await run(() =>
      call(
        api().secret.loadText({
          text,
          passphrase: kind === 'words' && passphrase ? passphrase : undefined,
          mnemonicMeaning: kind === 'words' ? meaning : undefined,
        }),
      ),
    );
    setBusy(false);
    if (info) {
      setSecret(info);
      setText('');
      setPassphrase('');
      go('nodeid');
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) {
      setFile(f);
      setNeedPass(false);
      void loadFile(f);
    }
  };

  const complete = (w: string) => setText(text.replace(/[a-z]+$/i, w) + ' ');

  return (
    <section aria-labelledby="import-title">
      <h1 id="import-title" tabIndex={-1}>
        Import the hsm_secret
      </h1>
      <div role="tablist" className="tabs">
        <button type="button" role="tab" aria-selected={tab === 'file'} onClick={() => setTab('file')}>
          From a file
        </button>
        <button type="button" role="tab" aria-selected={tab === 'text'} onClick={() => setTab('text')}>
          Type or paste
        </button>
      </div>

      {tab === 'file' && (
        <div role="tabpanel">
          <div className="dropzone" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
            <p>Drop the hsm_secret file here (any Core Lightning format: plain, encrypted, mnemonic), or</p>
            <label className="button">
              Choose a file…
              <input
                type="file"
                data-testid="secret-file"
                className="visually-hidden"
                onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) {
                    setFile(f);
                    setNeedPass(false);
                    void loadFile(f);
                  }
                }}
              />
            </label>
          </div>
          {needPass && file && (
            <form
              className="stack"
              onSubmit={(e) => {
                e.preventDefault();
                void loadFile(file, passphrase);
              }}
            >
              <label htmlFor="file-pass">Passphrase for {file.name}</label>
              <input
                id="file-pass"
                type="password"
                autoComplete="off"
                autoFocus
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
              />
              <button type="submit" disabled={busy || !passphrase}>
                {busy ? 'Unlocking… (Argon2id takes about a second)' : 'Unlock'}
              </button>
            </form>
          )}
        </div>
      )}

      {tab === 'text' && (
        <form
          role="tabpanel"
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void loadText();
          }}
        >
          <label htmlFor="secret-text">
            64 hex digits (spaces, dashes and line breaks are fine), 12–24 BIP39 words, or a codex32 string (cl1…)
          </label>
          <textarea
            id="secret-text"
            rows={4}
            spellCheck={false}
            autoComplete="off"
            autoCapitalize="off"
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <p className="hint" data-testid="text-kind">
            {kind === 'empty' && 'Nothing typed yet.'}
            {kind === 'hex' && `Looks like hex: ${hexDigits} of 64 digits.`}
            {kind === 'codex32' && 'Looks like a codex32 string (Core Lightning uses the "cl" prefix).'}
            {kind === 'words' && `Looks like BIP39 words: ${wordCount} so far.`}
          </p>
          {suggestions.length > 0 && (
            <div className="suggestions" aria-label="Word suggestions">
              {suggestions.map((w) => (
                <button type="button" key={w} onClick={() => complete(w)}>
                  {w}
                </button>
              ))}
            </div>
          )}
          {kind === 'words' && (
            <fieldset>
              <legend>What do these words mean?</legend>
              <label>
                <input
                  type="radio"
                  name="meaning"
                  checked={meaning === 'mnemonic-format'}
                  onChange={() => setMeaning('mnemonic-format')}
                />{' '}
                A node created by Core Lightning v25.12 or later (the words are the hsm_secret; wallet and runes use the
                full 64-byte seed)
              </label>
              <label>
                <input
                  type="radio"
                  name="meaning"
                  checked={meaning === 'legacy-generatehsm'}
                  onChange={() => setMeaning('legacy-generatehsm')}
                />{' '}
                An older node made with <code>hsmtool generatehsm</code> (hsm_secret = first 32 bytes of the seed)
              </label>
              <p className="hint">
                Both give the same node id and channel keys, but a different on-chain wallet, runes and backup keys.
              </p>
              <label htmlFor="words-pass">BIP39 passphrase (leave empty if none)</label>
              <input
                id="words-pass"
                type="password"
                autoComplete="off"
                value={passphrase}
                onChange={(e) => setPassphrase(e.target.value)}
              />
            </fieldset>
          )}
          <button type="submit" disabled={busy || kind === 'empty'}>
            {busy ? 'Checking…' : 'Load secret'}
          </button>
        </form>
      )}
    </section>
  );
}
