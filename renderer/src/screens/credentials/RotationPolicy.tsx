import { useEffect, useState } from 'react';
import type { RotationView } from '../../../../shared/ipc/contract';
import { api, call } from '../../api';
import { ActionError, useAction } from '../../components/Feedback';
import { today } from './form';

function dueText(rotation: RotationView | null): string {
  if (!rotation?.lastRotation) return 'No rotation recorded in this session.';
  const left = rotation.daysLeft ?? 0;
  const when = rotation.overdue ? `overdue by ${-left} day${left === -1 ? '' : 's'}` : left === 0 ? 'today' : `in ${left} day${left === 1 ? '' : 's'}`;
  return `Last rotation ${rotation.lastRotation}; next due ${rotation.nextDue} (${when}).`;
}

/** The rotation policy and the reminder (kept in the backend's memory only, until the app quits). */
export function RotationPolicy() {
  const [rotation, setRotation] = useState<RotationView | null>(null);
  const [date, setDate] = useState('');
  const action = useAction();
  useEffect(() => {
    void call(api().cred.rotation({})).then(setRotation, () => undefined);
  }, []);
  const record = async (d: string | null) => {
    const r = await action.run(() => call(api().cred.rotation({ lastRotation: d })));
    if (r) setRotation(r);
  };
  return (
    <fieldset className="cred-policy">
      <legend>Rotation policy</legend>
      <ul>
        <li>Rotate every {rotation?.policyDays ?? 90} days, and at once after a recovery or when a credential may have leaked.</li>
        <li>Least privilege: give each client only the methods it needs. Never hand out admin.macaroon or an unrestricted rune.</li>
        <li>Time-limited: give every credential an expiry.</li>
        <li>IP-restricted: tie macaroons to the client’s address or network. Runes cannot carry an IP: tie them to a peer id and a rate.</li>
        <li>
          Revoke the old ones: Core Lightning <code>lightning-cli blacklistrune start=N</code> (ids from <code>showrunes</code>); LND{' '}
          <code>lncli deletemacaroonid ID</code> for other root key ids, and <code>lncli changepassword --new_mac_root_key</code> to replace the
          default root key (every macaroon made with it stops working).
        </li>
      </ul>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (date !== '') void record(date);
        }}
      >
        <label htmlFor="rot-date">Last rotation</label>
        <input id="rot-date" type="date" className="cred-date" value={date} onChange={(e) => setDate(e.target.value)} />
        <button type="submit" disabled={date === ''}>
          Record
        </button>
        <button type="button" onClick={() => void record(today()).then(() => setDate(today()))}>
          Rotated today
        </button>
      </form>
      <ActionError action={action} />
      <p role="status" data-testid="rotation-status" className={rotation?.overdue ? 'verdict bad' : rotation?.lastRotation ? 'verdict ok' : 'verdict warn'}>
        {dueText(rotation)}
      </p>
      <p className="hint">The date is kept in this app’s memory until it quits, never written to disk: put the due date in your own calendar.</p>
    </fieldset>
  );
}
