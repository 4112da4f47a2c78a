/**
 * Fields that hold secrets: monospace (so O/0 and l/1/I do not blur), never spell-checked or
 * auto-completed, with a Show/Hide switch. A hidden textarea masks its characters
 * (-webkit-text-security, Chromium and Electron) and a hidden input is a password field.
 */
import { useState, type ReactNode, type Ref } from 'react';

interface SecretFieldProps {
  id: string;
  label: ReactNode;
  value: string;
  onChange(v: string): void;
  /** A paper copy (hex groups, words, codex32) on several lines; else one line (a passphrase). */
  rows?: number;
  /** Default: hidden for one line (passphrases), shown for several (a copy being typed). */
  initiallyHidden?: boolean;
  hint?: ReactNode;
  invalid?: boolean;
  describedBy?: string;
  autoFocus?: boolean;
  ref?: Ref<HTMLInputElement & HTMLTextAreaElement>;
}

function SecretField({ id, label, value, onChange, rows, initiallyHidden, hint, invalid, describedBy, autoFocus, ref }: SecretFieldProps) {
  const [hidden, setHidden] = useState(initiallyHidden ?? rows === undefined);
  const common = {
    id,
    ref,
    value,
    autoFocus,
    spellCheck: false,
    autoComplete: 'off',
    autoCorrect: 'off',
    autoCapitalize: 'off',
    'aria-invalid': invalid || undefined,
    'aria-describedby': describedBy,
  } as const;
  const what = rows === undefined ? 'the passphrase' : 'the text';
  return (
    <div className="secret-wrap">
      <label htmlFor={id}>{label}</label>
      <div className="secret-row">
        {rows === undefined ? (
          <input {...common} type={hidden ? 'password' : 'text'} className="secret-field" onChange={(e) => onChange(e.target.value)} />
        ) : (
          <textarea {...common} rows={rows} className={hidden ? 'secret-field hidden' : 'secret-field'} onChange={(e) => onChange(e.target.value)} />
        )}
        <button type="button" className="show-toggle" aria-pressed={!hidden} aria-label={`${hidden ? 'Show' : 'Hide'} ${what}`} onClick={() => setHidden(!hidden)}>
          {hidden ? 'Show' : 'Hide'}
        </button>
      </div>
      {hint}
    </div>
  );
}

/** A multi-line secret (hex groups, words, codex32), shown while typed. */
export const SecretTextArea = (p: Omit<SecretFieldProps, 'rows'> & { rows?: number }) => <SecretField {...p} rows={p.rows ?? 4} />;

/** A one-line secret (a passphrase, a root key), hidden by default. */
export const SecretInput = (p: Omit<SecretFieldProps, 'rows'>) => <SecretField {...p} />;
