import { useEffect, useRef, useState, type DragEvent } from 'react';
import type { CredentialView } from '../../../../shared/ipc/contract';
import { api, call, fileToBase64 } from '../../api';
import { ActionError, useAction } from '../../components/Feedback';
import { SecretInput } from '../../components/SecretField';
import { localToRfc3339 } from './form';

/** A request to put a credential into the box (from "Check this one"); `seq` makes a repeat a new request. */
export interface Prefill {
  text: string;
  seq: number;
}

/**
 * "Look at a credential": paste or drop a macaroon or a rune; for a macaroon, optionally its root key,
 * a time and a client IP to verify it. Reports the description (or null after a failure).
 */
export function InspectForm({ prefill, onView }: { prefill: Prefill | null; onView(v: CredentialView | null): void }) {
  const [text, setText] = useState('');
  const [dropped, setDropped] = useState<{ name: string; b64: string } | null>(null);
  const [rootKey, setRootKey] = useState('');
  const [at, setAt] = useState('');
  const [ip, setIp] = useState('');
  const action = useAction();
  const box = useRef<HTMLTextAreaElement | null>(null);
  const [seen, setSeen] = useState(0);

  // A new "Check this one": take its text (state adjusted while rendering, as React advises for props).
  if (prefill && prefill.seq !== seen) {
    setSeen(prefill.seq);
    setDropped(null);
    setText(prefill.text);
  }
  useEffect(() => {
    if (!prefill) return;
    box.current?.focus();
    box.current?.scrollIntoView({ block: 'center' });
  }, [prefill]);

  const inspect = async () => {
    const atIso = localToRfc3339(at);
    const v = await action.run(() =>
      call(
        api().cred.inspect({
          ...(dropped ? { bytesB64: dropped.b64 } : { text }),
          ...(rootKey.trim() ? { rootKeyHex: rootKey.trim() } : {}),
          ...(atIso ? { at: atIso } : {}),
          ...(ip.trim() ? { ip: ip.trim() } : {}),
        }),
      ),
    );
    onView(v ?? null);
  };
  const loadFile = async (f: File) => {
    setDropped({ name: f.name, b64: await fileToBase64(f) });
    setText('');
    onView(null);
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) await loadFile(f);
  };

  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void inspect();
      }}
    >
      <fieldset>
        <legend>Look at a credential</legend>
        <div className="dropzone cred-drop" onDragOver={(e) => e.preventDefault()} onDrop={(e) => void onDrop(e)}>
          <label htmlFor="cred-text">Paste a macaroon (hex or base64) or a rune, or drop a .macaroon / rune file here</label>
          <textarea
            id="cred-text"
            ref={box}
            className="mono"
            rows={4}
            spellCheck={false}
            autoComplete="off"
            value={text}
            placeholder={dropped ? `file ${dropped.name}` : ''}
            onChange={(e) => {
              setText(e.target.value);
              setDropped(null);
            }}
          />
          <div className="row">
            <label className="button small">
              Open file…
              <input
                type="file"
                className="visually-hidden"
                data-testid="cred-file"
                onChange={(e) => {
                  const f = e.target.files?.[0];
                  if (f) void loadFile(f);
                  e.target.value = '';
                }}
              />
            </label>
            {dropped && <span className="hint">Using the file {dropped.name}.</span>}
          </div>
        </div>
        <p className="hint">
          To verify a macaroon, give its root key (from macaroons.db, or the one given to lncli create) and when and from where it would be used.
        </p>
        <SecretInput id="cred-rootkey" label="Root key (64 hex digits, macaroons only)" value={rootKey} onChange={setRootKey} />
        <div className="cred-form">
          <label htmlFor="cred-at">Check at (your local time; empty = now)</label>
          <input id="cred-at" type="datetime-local" step={1} value={at} onChange={(e) => setAt(e.target.value)} />
          <label htmlFor="cred-ip">Client IP address</label>
          <input id="cred-ip" className="mono" placeholder="e.g. 192.0.2.10" value={ip} onChange={(e) => setIp(e.target.value)} />
        </div>
        <div className="row">
          <button type="submit">Inspect</button>
        </div>
        <ActionError action={action} />
      </fieldset>
    </form>
  );
}
