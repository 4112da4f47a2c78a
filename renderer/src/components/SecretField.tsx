/**
 * Fields that hold secrets: monospace (so O/0 and l/1/I do not blur), never spell-checked or
 * auto-completed, with a Show/Hide switch. A hidden textarea masks its characters
 * (-webkit-text-security, Chromium and Electron) and a hidden input is a password field.
 */
import { useState, type ReactNode, type Ref } from 'react';

interface Common {
  id: string;
  label: ReactNode;
  value: string;
  onChange(v: string): void;
  /** Start hidden (passphrases) or shown (a paper copy being typed). */
  initiallyHidden?: boolean;
  hint?: ReactNode;
  invalid?: boolean;
  describedBy?: string;
  autoFocus?: boolean;
  ref?: Ref<HTMLInputElement & HTMLTextAreaElement>;
}

function ShowToggle({ hidden, setHidden, what }: { hidden: boolean; setHidden(h: boolean): void; what: string }) {
  return (
    <button type="button" className="show-toggle" aria-pressed={!hidden} aria-label={`${hidden ? 'Show' : 'Hide'} ${what}`} onClick={() => setHidden(!hidden)}>
      {hidden ? 'Show' : 'Hide'}
    </button>
  );
}

/** A multi-line secret (hex groups, words, codex32). */
export function SecretTextArea({ id, label, value, onChange, initiallyHidden = false, hint, invalid, describedBy, rows = 4, ref, autoFocus }: Common & { rows?: number }) {
  const [hidden, setHidden] = useState(initiallyHidden);
  return (
    <div className="secret-wrap">
      <label htmlFor={id}>{label}</label>
      <div className="secret-row">
        <textarea
          id={id}
          ref={ref}
          rows={rows}
          className={hidden ? 'secret-field hidden' : 'secret-field'}
          spellCheck={false}
          autoComplete="off"
          autoCorrect="off"
          autoCapitalize="off"
          value={value}
          autoFocus={autoFocus}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(e) => onChange(e.target.value)}
        />
        <ShowToggle hidden={hidden} setHidden={setHidden} what="the text" />
      </div>
      {hint}
    </div>
  );
}

/** A one-line secret: a passphrase. Hidden by default. */
export function SecretInput({ id, label, value, onChange, initiallyHidden = true, hint, invalid, describedBy, autoFocus, ref }: Common) {
  const [hidden, setHidden] = useState(initiallyHidden);
  return (
    <div className="secret-wrap">
      <label htmlFor={id}>{label}</label>
      <div className="secret-row">
        <input
          id={id}
          ref={ref}
          type={hidden ? 'password' : 'text'}
          className="secret-field"
          spellCheck={false}
          autoComplete="off"
          autoCorrect="off"
          autoCapitalize="off"
          autoFocus={autoFocus}
          value={value}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(e) => onChange(e.target.value)}
        />
        <ShowToggle hidden={hidden} setHidden={setHidden} what="the passphrase" />
      </div>
      {hint}
    </div>
  );
}
