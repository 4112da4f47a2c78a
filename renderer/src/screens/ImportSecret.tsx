import { useMemo, useState, type DragEvent } from 'react';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { detectSecretTextKind } from '../../../shared/secrets/textKind';
import type { SecretInfo } from '../../../shared/ipc/contract';

type MnemonicMeaning = 'mnemonic-format' | 'legacy-generatehsm';
import type { ScreenProps } from '../App';
import { api, call, fileToBase64 } from '../api';
import { ActionError, useAction } from '../components/Feedback';
import { GoalSteps } from '../components/Goal';
import { SecretInput, SecretTextArea } from '../components/SecretField';
import { Tabs, tabPanelProps, type TabDef } from '../components/Tabs';

type Tab = 'file' | 'text';
const TABS: TabDef<Tab>[] = [
  { id: 'file', label: 'From a file' },
  { id: 'text', label: 'Type or paste' },
];

/**
 * What the typed text looks like — the backend's own rule (shared/secrets/hsmSecret.ts), so the
 * hint never disagrees with the parser. 'empty' before anything is typed.
 */
export function textKind(text: string): 'hex' | 'words' | 'codex32' | 'empty' | 'unknown' {
  if (text.trim() === '') return 'empty';
  return detectSecretTextKind(text);
}

/** The first character of a hex copy that is not a hex digit, with the digit it may stand for. */
function firstNonHex(text: string): { position: number; char: string; maybe: string | null } | null {
  const LOOKS: Record<string, string> = { o: '0', i: '1', l: '1', s: '5', z: '2' };
  const chars = Array.from(text.trim().replace(/^0x/i, ''));
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (/[\s\-\u2010-\u2015]/u.test(c) || /[0-9a-f]/i.test(c)) continue;
    return { position: i + 1, char: c, maybe: LOOKS[c.toLowerCase()] ?? null };
  }
  return null;
}

function lastWord(text: string): string {
  const m = /([a-z]+)$/i.exec(text);
  return m ? m[1]!.toLowerCase() : '';
}

export function ImportSecret({ setSecret, go, goal, setGoal }: ScreenProps) {
  const [tab, setTab] = useState<Tab>('file');
  const [file, setFile] = useState<File | null>(null);
  const [needPass, setNeedPass] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [text, setText] = useState('');
  const [meaning, setMeaning] = useState<MnemonicMeaning>('mnemonic-format');
  const fileAction = useAction();
  const textAction = useAction();
  const kind = textKind(text);
  const partial = kind === 'words' ? lastWord(text) : '';
  // Every word that starts so, not the first few: "wi" lists wire as well as wide.
  const suggestions = useMemo(() => (partial.length >= 2 && !wordlist.includes(partial) ? wordlist.filter((w) => w.startsWith(partial)) : []), [partial]);
  const wordCount = kind === 'words' ? text.trim().split(/\s+/).length : 0;
  const hexDigits = kind === 'hex' ? text.replace(/[\s-]/g, '').replace(/^0x/i, '').length : 0;
  const stray = kind === 'hex' ? firstNonHex(text) : null;

  const loaded = (info: SecretInfo) => {
    setSecret(info);
    setPassphrase('');
    go('nodeid');
  };

  const loadFile = async (f: File, pass?: string) => {
    const info = await fileAction.run(async () => {
      try {
        return await call(api().secret.loadFile({ fileName: f.name, bytesB64: await fileToBase64(f), passphrase: pass }));
      } catch (e) {
        if ((e as { code?: string }).code === 'passphrase_required') setNeedPass(true);
        throw e;
      }
    });
    if (info) loaded(info);
  };

  const loadText = async () => {
    const info = await textAction.run(() =>
      call(
        api().secret.loadText({
          text,
          passphrase: kind === 'words' && passphrase ? passphrase : undefined,
          mnemonicMeaning: kind === 'words' ? meaning : undefined,
        }),
      ),
    );
    if (info) {
      setText('');
      loaded(info);
    }
  };

  const pick = (f: File) => {
    setFile(f);
    setNeedPass(false);
    setPassphrase('');
    void loadFile(f);
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) pick(f);
  };

  const complete = (w: string) => setText(text.replace(/[a-z]+$/i, w) + ' ');

  return (
    <section aria-labelledby="import-title">
      <GoalSteps goal={goal} current={0} onLeave={() => setGoal(null)} />
      <h1 id="import-title" tabIndex={-1}>
        Import the hsm_secret
      </h1>
      <Tabs<Tab> group="import" label="How to bring the secret in" tabs={TABS} selected={tab} onSelect={setTab} />

      {tab === 'file' && (
        <div {...tabPanelProps('import', 'file')}>
          <div className="dropzone" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
            <p>
              Drop the hsm_secret file here (any Core Lightning format: plain, encrypted, mnemonic), or a text file holding the 64
              hex digits, the words or the codex32 string, or
            </p>
            <label className="button">
              Choose a file…
              <input
                type="file"
                data-testid="secret-file"
                className="visually-hidden"
                onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) pick(f);
                  e.target.value = '';
                }}
              />
            </label>
          </div>
          <ActionError action={fileAction} />
          {needPass && file && (
            <form
              className="stack"
              onSubmit={(e) => {
                e.preventDefault();
                void loadFile(file, passphrase);
              }}
            >
              <SecretInput id="file-pass" label={`Passphrase for ${file.name}`} value={passphrase} onChange={setPassphrase} autoFocus />
              <button type="submit" disabled={fileAction.busy || !passphrase}>
                {fileAction.busy ? 'Unlocking… (Argon2id takes about a second)' : 'Unlock'}
              </button>
            </form>
          )}
        </div>
      )}

      {tab === 'text' && (
        <form
          {...tabPanelProps('import', 'text')}
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void loadText();
          }}
        >
          <SecretTextArea
            id="secret-text"
            label="64 hex digits (spaces, dashes and line breaks are fine), 12–24 BIP39 words, or a codex32 string (cl1…)"
            value={text}
            onChange={setText}
            describedBy="text-kind"
            hint={
              <p className="hint" id="text-kind" data-testid="text-kind" aria-live="polite">
                {kind === 'empty' && 'Nothing typed yet.'}
                {kind === 'hex' && `Looks like hex: ${hexDigits} of 64 digits.`}
                {stray &&
                  ` Character ${stray.position} is "${stray.char}", not a hex digit (0–9, a–f)${stray.maybe ? `: the digit ${stray.maybe}?` : '.'}`}
                {kind === 'codex32' && 'Looks like a codex32 string (Core Lightning uses the "cl" prefix).'}
                {kind === 'words' && `Looks like BIP39 words: ${wordCount} so far.`}
                {kind === 'unknown' && 'Not recognised yet: 64 hex digits, 12–24 words, or a string starting cl1.'}
              </p>
            }
          />
          {suggestions.length > 0 && (
            <div className="suggestions" role="group" aria-label={`Words starting "${partial}"`}>
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
                <input type="radio" name="meaning" checked={meaning === 'mnemonic-format'} onChange={() => setMeaning('mnemonic-format')} /> A
                node created by Core Lightning v25.12 or later (the words are the hsm_secret; wallet and runes use the full 64-byte seed)
              </label>
              <label>
                <input type="radio" name="meaning" checked={meaning === 'legacy-generatehsm'} onChange={() => setMeaning('legacy-generatehsm')} /> An
                older node made with <code>hsmtool generatehsm</code> (hsm_secret = first 32 bytes of the seed)
              </label>
              <p className="hint">Both give the same node id and channel keys, but a different on-chain wallet, runes and backup keys.</p>
              <SecretInput id="words-pass" label="BIP39 passphrase (leave empty if none)" value={passphrase} onChange={setPassphrase} />
            </fieldset>
          )}
          <button type="submit" disabled={textAction.busy || kind === 'empty'}>
            {textAction.busy ? 'Checking…' : 'Load secret'}
          </button>
          <ActionError action={textAction} />
        </form>
      )}
    </section>
  );
}
