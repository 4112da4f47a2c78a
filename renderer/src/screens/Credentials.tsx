/**
 * Credentials after a recovery or a suspected compromise: see what a macaroon or a rune allows,
 * verify a macaroon with its root key, narrow either, mint a rune from the loaded secret, and keep
 * the rotation policy in view. Runes need the secret only to mint and to check who made them.
 *
 * The screen composes four parts, each owning its own state (screens/credentials/): looking at a
 * credential (InspectForm), narrowing it (NarrowForm), minting (MintForm) and the rotation
 * reminder (RotationPolicy). This component only carries the credential being looked at between
 * them, and the "Check this one" requests of new credentials back to the box.
 */
import { useCallback, useState } from 'react';
import type { CredentialView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { CredentialDetails } from './credentials/CredentialDetails';
import { InspectForm, type Prefill } from './credentials/InspectForm';
import { MintForm } from './credentials/MintForm';
import { NarrowForm } from './credentials/NarrowForm';
import { RotationPolicy } from './credentials/RotationPolicy';

export { localToRfc3339 } from './credentials/form';

export function Credentials({ secret, go }: ScreenProps) {
  const [view, setView] = useState<CredentialView | null>(null);
  const [prefill, setPrefill] = useState<Prefill | null>(null);
  const check = useCallback((text: string) => {
    setView(null);
    setPrefill((p) => ({ text, seq: (p?.seq ?? 0) + 1 }));
  }, []);
  return (
    <section aria-labelledby="cred-title">
      <h1 id="cred-title" tabIndex={-1}>
        Credentials: runes and macaroons
      </h1>
      <p className="lead">
        After a recovery, or if a credential may have leaked, replace the node’s credentials: see what each one allows, hand out narrow,
        time-limited ones, and revoke the old ones on the node. Everything here is offline.
      </p>
      <InspectForm prefill={prefill} onView={setView} />
      {view && <CredentialDetails view={view} testId="cred-view" />}
      <NarrowForm view={view} onCheck={check} />
      <MintForm secret={secret} onImport={() => go('import')} onCheck={check} />
      <RotationPolicy />
    </section>
  );
}
