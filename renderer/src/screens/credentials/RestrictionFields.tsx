import type { CredentialKind, FormState } from './form';

/** Restriction fields: expiry and custom for both kinds; IP for macaroons; methods, rate, peer, readonly for runes. */
export function RestrictionFields({ id, kind, form, setForm }: { id: string; kind: CredentialKind; form: FormState; setForm(f: FormState): void }) {
  const set = (k: keyof FormState) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  return (
    <div className="cred-form">
      <label htmlFor={`${id}-expires`}>Expires (your local time)</label>
      <input id={`${id}-expires`} type="datetime-local" step={1} value={form.expires} onChange={set('expires')} />
      {kind === 'macaroon' ? (
        <>
          <label htmlFor={`${id}-ip`}>Only from IP address</label>
          <input id={`${id}-ip`} className="mono" placeholder="e.g. 192.0.2.10" value={form.ip} onChange={set('ip')} />
          <label htmlFor={`${id}-iprange`}>Only from IP range</label>
          <input id={`${id}-iprange`} className="mono" placeholder="e.g. 10.0.0.0/8" value={form.ipRange} onChange={set('ipRange')} />
          <label htmlFor={`${id}-custom`}>Other caveats (one a line)</label>
          <textarea id={`${id}-custom`} className="mono" rows={2} spellCheck={false} placeholder="lnd-custom NAME CONDITION" value={form.custom} onChange={set('custom')} />
        </>
      ) : (
        <>
          <label htmlFor={`${id}-methods`}>Only these methods</label>
          <input id={`${id}-methods`} className="mono" placeholder="e.g. listpeers getinfo" value={form.methods} onChange={set('methods')} />
          <label htmlFor={`${id}-rate`}>At most, uses per minute</label>
          <input id={`${id}-rate`} type="number" min={1} className="short" value={form.rate} onChange={set('rate')} />
          <label htmlFor={`${id}-peer`}>Only for peer (node id)</label>
          <input id={`${id}-peer`} className="mono" placeholder="02… or 03…, 66 hex digits" value={form.peerId} onChange={set('peerId')} />
          <span />
          <label>
            <input id={`${id}-readonly`} type="checkbox" checked={form.readonly} onChange={(e) => setForm({ ...form, readonly: e.target.checked })} /> Read-only
            (list*, get*, summary; not listdatastore)
          </label>
          <label htmlFor={`${id}-custom`}>Other restrictions (rune syntax, one a line)</label>
          <textarea id={`${id}-custom`} className="mono" rows={2} spellCheck={false} placeholder="method^list|method^get" value={form.custom} onChange={set('custom')} />
        </>
      )}
    </div>
  );
}
