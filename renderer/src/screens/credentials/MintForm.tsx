import { useState, type FormEvent } from 'react';
import type { CredentialResult, SecretInfo } from '../../../../shared/ipc/contract';
import { api, call } from '../../api';
import { ActionError, useAction } from '../../components/Feedback';
import { EMPTY_FORM, formInput, type FormState } from './form';
import { RestrictionFields } from './RestrictionFields';
import { ResultPanel } from './ResultPanel';

/** "Mint a rune from the loaded secret", as lightning-cli createrune makes it on the node. */
export function MintForm({ secret, onImport, onCheck }: { secret: SecretInfo | null; onImport(): void; onCheck(text: string): void }) {
  const [uniqueId, setUniqueId] = useState('');
  const [form, setForm] = useState<FormState>(EMPTY_FORM);
  const [minted, setMinted] = useState<CredentialResult | null>(null);
  const action = useAction();
  const mint = async (e: FormEvent) => {
    e.preventDefault();
    const r = await action.run(() => call(api().cred.mintRune({ uniqueId: uniqueId.trim(), ...formInput(form, 'rune') })));
    if (r) setMinted(r);
  };
  return (
    <>
      <form onSubmit={(e) => void mint(e)}>
        <fieldset>
          <legend>Mint a rune from the loaded secret</legend>
          {secret ? (
            <>
              <p className="hint">
                As <code>lightning-cli createrune</code> makes it on node {secret.nodeId.slice(0, 8)}…{secret.nodeId.slice(-6)}. Use a unique id
                above every rune the node has issued (<code>lightning-cli showrunes</code>): the node refuses runes whose id it has blacklisted.
              </p>
              <div className="cred-form">
                <label htmlFor="mint-uid">Unique id</label>
                <input id="mint-uid" className="mono short" inputMode="numeric" value={uniqueId} onChange={(e) => setUniqueId(e.target.value)} />
              </div>
              <RestrictionFields id="mint" kind="rune" form={form} setForm={setForm} />
              <div className="row">
                <button type="submit">Mint rune</button>
              </div>
              <ActionError action={action} />
            </>
          ) : (
            <div className="row">
              <p className="hint">
                Runes are made from the node’s hsm_secret: import it to mint one. Looking at and narrowing macaroons and runes needs no secret.
              </p>
              <button type="button" onClick={onImport}>
                Import secret
              </button>
            </div>
          )}
        </fieldset>
      </form>
      {minted && <ResultPanel result={minted} testId="cred-minted" onCheck={onCheck} />}
    </>
  );
}
