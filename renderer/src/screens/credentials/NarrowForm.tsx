import { useState, type FormEvent } from 'react';
import type { CredentialResult, CredentialView } from '../../../../shared/ipc/contract';
import { api, call } from '../../api';
import { ActionError, useAction } from '../../components/Feedback';
import { EMPTY_FORM, formInput, type FormState } from './form';
import { RestrictionFields } from './RestrictionFields';
import { ResultPanel } from './ResultPanel';

type MacaroonFormat = 'hex' | 'base64' | 'base64url';

/**
 * "Narrow it": add restrictions (rune) or caveats (macaroon) to the credential being looked at. The
 * new credential stays on screen while it is itself being checked, and goes when another is looked at.
 */
export function NarrowForm({ view, onCheck }: { view: CredentialView | null; onCheck(text: string): void }) {
  const [form, setForm] = useState<FormState>(EMPTY_FORM);
  const [format, setFormat] = useState<MacaroonFormat>('hex');
  const [made, setMade] = useState<{ result: CredentialResult; from: string } | null>(null);
  const action = useAction();
  // Shown while it is checked (nothing looked at, or itself looked at); gone once another credential is.
  const shown =
    made && (!view || view.text === made.from || view.text === made.result.text) ? made.result : null;

  const restrict = async (e: FormEvent) => {
    e.preventDefault();
    if (!view) return;
    const r = await action.run(() =>
      call(
        api().cred.restrict({
          text: view.text,
          ...formInput(form, view.kind),
          ...(view.kind === 'macaroon' ? { format } : {}),
        }),
      ),
    );
    if (r) setMade({ result: r, from: view.text });
  };

  return (
    <>
      {view && (
        <form onSubmit={(e) => void restrict(e)}>
          <fieldset>
            <legend>
              Narrow it{' '}
              {view.kind === 'macaroon'
                ? '(add caveats; no root key needed)'
                : '(add restrictions; no secret needed)'}
            </legend>
            <p className="hint">
              Whatever you add here can never be removed. The original keeps working: revoke it on the node
              once the new one is in use.
            </p>
            <RestrictionFields id="narrow" kind={view.kind} form={form} setForm={setForm} />
            {view.kind === 'macaroon' && (
              <div className="row">
                <label htmlFor="narrow-format">Output as</label>
                <select
                  id="narrow-format"
                  value={format}
                  onChange={(e) => setFormat(e.target.value as MacaroonFormat)}
                >
                  <option value="hex">hex (as LND’s REST header Grpc-Metadata-macaroon takes it)</option>
                  <option value="base64">base64</option>
                  <option value="base64url">base64url</option>
                </select>
              </div>
            )}
            <div className="row">
              <button type="submit">{view.kind === 'macaroon' ? 'Add caveats' : 'Add restrictions'}</button>
            </div>
            <ActionError action={action} />
          </fieldset>
        </form>
      )}
      {shown && <ResultPanel result={shown} testId="cred-restricted" onCheck={onCheck} />}
    </>
  );
}
