import { useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import type { CredentialResult, CredentialView, RotationView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call, fileToBase64 } from '../api';

/**
 * Credentials after a recovery or a suspected compromise: see what a macaroon or a rune allows,
 * verify a macaroon with its root key, narrow either, mint a rune from the loaded secret, and keep
 * the rotation policy in view. Runes need the secret only to mint and to check who made them.
 */

/** `<input type="datetime-local">` (local time, no zone) → RFC 3339 UTC in whole seconds; '' stays ''. */
export function localToRfc3339(value: string): string {
  if (value === '') return '';
  const d = new Date(value);
  return Number.isFinite(d.getTime()) ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : value;
}

const splitList = (s: string) => s.split(/[\s,]+/).filter((x) => x !== '');
const lines = (s: string) =>
  s
    .split('\n')
    .map((x) => x.trim())
    .filter((x) => x !== '');
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

interface FormState {
  expires: string;
  ip: string;
  ipRange: string;
  methods: string;
  rate: string;
  peerId: string;
  readonly: boolean;
  custom: string;
}
const EMPTY_FORM: FormState = {
  expires: '',
  ip: '',
  ipRange: '',
  methods: '',
  rate: '',
  peerId: '',
  readonly: false,
  custom: '',
};

/** The form's fields as the contract wants them (empty fields left out). */
function formInput(f: FormState, kind: 'macaroon' | 'rune') {
  const expires = localToRfc3339(f.expires);
  const custom = lines(f.custom);
  const common = { ...(expires ? { expires } : {}), ...(custom.length ? { custom } : {}) };
  if (kind === 'macaroon')
    return {
      ...common,
      ...(f.ip.trim() ? { ip: f.ip.trim() } : {}),
      ...(f.ipRange.trim() ? { ipRange: f.ipRange.trim() } : {}),
    };
  const methods = splitList(f.methods);
  return {
    ...common,
    ...(methods.length ? { methods } : {}),
    ...(f.rate.trim() ? { rate: Number(f.rate) } : {}),
    ...(f.peerId.trim() ? { peerId: f.peerId.trim() } : {}),
    ...(f.readonly ? { readonly: true } : {}),
  };
}

/** Restriction fields: expiry and custom for both kinds; IP for macaroons; methods, rate, peer, readonly for runes. */
function RestrictionFields({
  id,
  kind,
  form,
  setForm,
}: {
  id: string;
  kind: 'macaroon' | 'rune';
  form: FormState;
  setForm(f: FormState): void;
}) {
  const set = (k: keyof FormState) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  return (
    <div className="cred-form">
      <label htmlFor={`${id}-expires`}>Expires (your local time)</label>
      <input
        id={`${id}-expires`}
        type="datetime-local"
        step={1}
        value={form.expires}
        onChange={set('expires')}
      />
      {kind === 'macaroon' ? (
        <>
          <label htmlFor={`${id}-ip`}>Only from IP address</label>
          <input
            id={`${id}-ip`}
            className="mono"
            placeholder="e.g. 192.0.2.10"
            value={form.ip}
            onChange={set('ip')}
          />
          <label htmlFor={`${id}-iprange`}>Only from IP range</label>
          <input
            id={`${id}-iprange`}
            className="mono"
            placeholder="e.g. 10.0.0.0/8"
            value={form.ipRange}
            onChange={set('ipRange')}
          />
          <label htmlFor={`${id}-custom`}>Other caveats (one a line)</label>
          <textarea
            id={`${id}-custom`}
            rows={2}
            spellCheck={false}
            placeholder="lnd-custom NAME CONDITION"
            value={form.custom}
            onChange={set('custom')}
          />
        </>
      ) : (
        <>
          <label htmlFor={`${id}-methods`}>Only these methods</label>
          <input
            id={`${id}-methods`}
            className="mono"
            placeholder="e.g. listpeers getinfo"
            value={form.methods}
            onChange={set('methods')}
          />
          <label htmlFor={`${id}-rate`}>At most, uses per minute</label>
          <input
            id={`${id}-rate`}
            type="number"
            min={1}
            className="short"
            value={form.rate}
            onChange={set('rate')}
          />
          <label htmlFor={`${id}-peer`}>Only for peer (node id)</label>
          <input
            id={`${id}-peer`}
            className="mono"
            placeholder="02… or 03…, 66 hex digits"
            value={form.peerId}
            onChange={set('peerId')}
          />
          <span />
          <label>
            <input
              id={`${id}-readonly`}
              type="checkbox"
              checked={form.readonly}
              onChange={(e) => setForm({ ...form, readonly: e.target.checked })}
            />{' '}
            Read-only (list*, get*, summary; not listdatastore)
          </label>
          <label htmlFor={`${id}-custom`}>Other restrictions (rune syntax, one a line)</label>
          <textarea
            id={`${id}-custom`}
            rows={2}
            spellCheck={false}
            placeholder="method^list|method^get"
            value={form.custom}
            onChange={set('custom')}
          />
        </>
      )}
    </div>
  );
}

/** What a credential allows, and what was checked. */
function CredentialDetails({ view, testId }: { view: CredentialView; testId: string }) {
  const m = view.macaroon;
  const r = view.rune;
  const v = m?.verification;
  return (
    <div className="cred-details" data-testid={testId}>
      <p>
        <span className="pill">{view.kind === 'macaroon' ? 'LND macaroon' : 'Core Lightning rune'}</span>
        {r && (
          <>
            {' '}
            unique id {r.uniqueId ?? '(none)'}
            {r.version !== undefined ? `, version ${r.version}` : ''}
          </>
        )}
        {m?.lnd && (
          <>
            {' '}
            root key id {JSON.stringify(m.lnd.rootKeyId)}
            {m.location ? `, location ${m.location}` : ''}
          </>
        )}
      </p>
      {r && r.authentic === true && (
        <p className="verdict ok">
          Made by the loaded node’s secret: the node accepts it while its restrictions hold and its unique id
          is not blacklisted.
        </p>
      )}
      {r && r.authentic === false && (
        <p className="verdict bad">Not made by the loaded node’s secret: {r.notAuthenticReason}.</p>
      )}
      {r?.unrestricted && (
        <p className="verdict bad">
          Unrestricted: it can do anything the node can, including spending its funds. Restrict it before
          handing it out.
        </p>
      )}
      <h3>What it allows</h3>
      <ul className="cred-summary" data-testid={`${testId}-summary`}>
        {view.summary.map((s, i) => (
          <li key={i}>{s}</li>
        ))}
      </ul>
      {m?.lncli && m.lncli.permissions.length > 0 && (
        <details>
          <summary>Permissions ({m.lncli.permissions.length})</summary>
          <ul className="cred-perms mono small" data-testid={`${testId}-permissions`}>
            {m.lncli.permissions.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </details>
      )}
      {v && (
        <div data-testid={`${testId}-verification`}>
          <p
            className={
              v.verdict === 'valid' ? 'verdict ok' : v.verdict === 'invalid' ? 'verdict bad' : 'verdict warn'
            }
            role="status"
          >
            {v.verdict === 'valid'
              ? 'Valid'
              : v.verdict === 'invalid'
                ? 'Invalid'
                : 'Valid only if the conditions below hold'}{' '}
            at {view.checkedAt}
            {view.checkedIp ? ` from ${view.checkedIp}` : ' (client IP not given)'}; signature{' '}
            {v.signatureValid ? 'matches this root key' : 'does NOT match this root key'}.
          </p>
          {v.caveats.length > 0 && (
            <table className="channels cred-checks">
              <thead>
                <tr>
                  <th>caveat</th>
                  <th>result</th>
                  <th>why</th>
                </tr>
              </thead>
              <tbody>
                {v.caveats.map((c) => (
                  <tr key={c.index}>
                    <td className="mono small">{c.condition}</td>
                    <td>
                      <span className={`pill ${c.status}`}>{c.status}</span>
                    </td>
                    <td>{c.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {v.reasons.length > 0 && (
            <ul className="cred-reasons">
              {v.reasons.map((x, i) => (
                <li key={i}>{x}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {view.notes.length > 0 && (
        <ul className="hint cred-notes">
          {view.notes.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A new credential: the text to copy, save, show as QR code, or check. */
function ResultPanel({
  result,
  testId,
  run,
  onCheck,
}: {
  result: CredentialResult;
  testId: string;
  run: ScreenProps['run'];
  onCheck(text: string): void;
}) {
  const box = useRef<HTMLTextAreaElement | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(result.text);
      setCopied('Copied.');
    } catch {
      // The app's window grants no permissions; selecting the text and copying still works.
      box.current?.select();
      setCopied(document.execCommand('copy') ? 'Copied.' : 'Selected: press Ctrl+C to copy.');
    }
  };
  const save = (binary: boolean) =>
    void run(() =>
      call(api().cred.save({ kind: result.kind, text: result.text, ...(binary ? { binary } : {}) })),
    ).then((r) => r && setSaved(r.path));
  return (
    <div className="cred-result" data-testid={testId}>
      <label htmlFor={`${testId}-text`}>
        New {result.kind === 'rune' ? 'rune' : `macaroon (${result.format})`}
        {result.added.length > 0 && ` — added: ${result.added.join('; ')}`}
      </label>
      <textarea
        id={`${testId}-text`}
        ref={box}
        className="mono"
        readOnly
        rows={result.kind === 'rune' ? 2 : 5}
        value={result.text}
        data-testid={`${testId}-text`}
      />
      <div className="row">
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        <button type="button" onClick={() => save(false)}>
          Save as text…
        </button>
        {result.kind === 'macaroon' && (
          <button type="button" onClick={() => save(true)}>
            Save as .macaroon file…
          </button>
        )}
        <button type="button" onClick={() => onCheck(result.text)}>
          Check this one
        </button>
        {copied && <span role="status">{copied}</span>}
      </div>
      {saved && (
        <p role="status" className="verdict ok">
          Saved to {saved} (readable only by you).
        </p>
      )}
      <div className="row cred-result-body">
        {result.qrSvgDataUrl ? (
          <img className="qr" src={result.qrSvgDataUrl} alt={`QR code of the new ${result.kind}`} />
        ) : (
          <p className="hint">Too large for one QR code: save it as a file.</p>
        )}
        <CredentialDetails view={result.view} testId={`${testId}-details`} />
      </div>
    </div>
  );
}

export function Credentials({ secret, run, go }: ScreenProps) {
  const [text, setText] = useState('');
  const [dropped, setDropped] = useState<{ name: string; b64: string } | null>(null);
  const [rootKey, setRootKey] = useState('');
  const [at, setAt] = useState('');
  const [ip, setIp] = useState('');
  const [view, setView] = useState<CredentialView | null>(null);
  const [form, setForm] = useState<FormState>(EMPTY_FORM);
  const [format, setFormat] = useState<'hex' | 'base64' | 'base64url'>('hex');
  const [restricted, setRestricted] = useState<CredentialResult | null>(null);
  const [uniqueId, setUniqueId] = useState('');
  const [mintForm, setMintForm] = useState<FormState>(EMPTY_FORM);
  const [minted, setMinted] = useState<CredentialResult | null>(null);
  const [rotation, setRotation] = useState<RotationView | null>(null);
  const [rotationDate, setRotationDate] = useState('');
  const inputBox = useRef<HTMLTextAreaElement | null>(null);

  useEffect(() => {
    void call(api().cred.rotation({})).then(setRotation, () => undefined);
  }, []);

  const inspect = async () => {
    const atIso = localToRfc3339(at);
    const v = await run(() =>
      call(
        api().cred.inspect({
          ...(dropped ? { bytesB64: dropped.b64 } : { text }),
          ...(rootKey.trim() ? { rootKeyHex: rootKey.trim() } : {}),
          ...(atIso ? { at: atIso } : {}),
          ...(ip.trim() ? { ip: ip.trim() } : {}),
        }),
      ),
    );
    setView(v ?? null);
    // Keep the last new credential on screen while it is being checked; drop it when another one is looked at.
    if (!v || v.text !== restricted?.text) setRestricted(null);
  };

  const loadFile = async (f: File) => {
    setDropped({ name: f.name, b64: await fileToBase64(f) });
    setText('');
    setView(null);
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) await loadFile(f);
  };

  const check = (t: string) => {
    setDropped(null);
    setText(t);
    setView(null);
    inputBox.current?.focus();
    inputBox.current?.scrollIntoView({ block: 'center' });
  };

  const restrict = async (e: FormEvent) => {
    e.preventDefault();
    if (!view) return;
    const r = await run(() =>
      call(
        api().cred.restrict({
          text: view.text,
          ...formInput(form, view.kind),
          ...(view.kind === 'macaroon' ? { format } : {}),
        }),
      ),
    );
    if (r) setRestricted(r);
  };

  const mint = async (e: FormEvent) => {
    e.preventDefault();
    const r = await run(() =>
      call(api().cred.mintRune({ uniqueId: uniqueId.trim(), ...formInput(mintForm, 'rune') })),
    );
    if (r) setMinted(r);
  };

  const record = async (date: string | null) => {
    const r = await run(() => call(api().cred.rotation({ lastRotation: date })));
    if (r) setRotation(r);
  };

  return (
    <section aria-labelledby="cred-title">
      <h1 id="cred-title" tabIndex={-1}>
        Credentials: runes and macaroons
      </h1>
      <p className="lead">
        After a recovery, or if a credential may have leaked, replace the node’s credentials: see what each
        one allows, hand out narrow, time-limited ones, and revoke the old ones on the node. Everything here
        is offline.
      </p>

      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void inspect();
        }}
      >
        <fieldset>
          <legend>Look at a credential</legend>
          <div
            className="dropzone cred-drop"
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => void onDrop(e)}
          >
            <label htmlFor="cred-text">
              Paste a macaroon (hex or base64) or a rune, or drop a .macaroon / rune file here
            </label>
            <textarea
              id="cred-text"
              ref={inputBox}
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
            To verify a macaroon, give its root key (from macaroons.db, or the one given to lncli create) and
            when and from where it would be used.
          </p>
          <div className="cred-form">
            <label htmlFor="cred-rootkey">Root key (64 hex digits, macaroons only)</label>
            <input
              id="cred-rootkey"
              className="mono"
              autoComplete="off"
              spellCheck={false}
              value={rootKey}
              onChange={(e) => setRootKey(e.target.value)}
            />
            <label htmlFor="cred-at">Check at (your local time; empty = now)</label>
            <input
              id="cred-at"
              type="datetime-local"
              step={1}
              value={at}
              onChange={(e) => setAt(e.target.value)}
            />
            <label htmlFor="cred-ip">Client IP address</label>
            <input
              id="cred-ip"
              className="mono"
              placeholder="e.g. 192.0.2.10"
              value={ip}
              onChange={(e) => setIp(e.target.value)}
            />
          </div>
          <div className="row">
            <button type="submit">Inspect</button>
          </div>
        </fieldset>
      </form>

      {view && (
        <>
          <CredentialDetails view={view} testId="cred-view" />
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
                    onChange={(e) => setFormat(e.target.value as typeof format)}
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
            </fieldset>
          </form>
          {restricted && (
            <ResultPanel result={restricted} testId="cred-restricted" run={run} onCheck={check} />
          )}
        </>
      )}

      <form onSubmit={(e) => void mint(e)}>
        <fieldset>
          <legend>Mint a rune from the loaded secret</legend>
          {secret ? (
            <>
              <p className="hint">
                As <code>lightning-cli createrune</code> makes it on node {secret.nodeId.slice(0, 8)}…
                {secret.nodeId.slice(-6)}. Use a unique id above every rune the node has issued (
                <code>lightning-cli showrunes</code>): the node refuses runes whose id it has blacklisted.
              </p>
              <div className="cred-form">
                <label htmlFor="mint-uid">Unique id</label>
                <input
                  id="mint-uid"
                  className="mono short"
                  inputMode="numeric"
                  value={uniqueId}
                  onChange={(e) => setUniqueId(e.target.value)}
                />
              </div>
              <RestrictionFields id="mint" kind="rune" form={mintForm} setForm={setMintForm} />
              <div className="row">
                <button type="submit">Mint rune</button>
              </div>
            </>
          ) : (
            <div className="row">
              <p className="hint">
                Runes are made from the node’s hsm_secret: import it to mint one. Looking at and narrowing
                macaroons and runes needs no secret.
              </p>
              <button type="button" onClick={() => go('import')}>
                Import secret
              </button>
            </div>
          )}
        </fieldset>
      </form>
      {minted && <ResultPanel result={minted} testId="cred-minted" run={run} onCheck={check} />}

      <fieldset className="cred-policy">
        <legend>Rotation policy</legend>
        <ul>
          <li>
            Rotate every {rotation?.policyDays ?? 90} days, and at once after a recovery or when a credential
            may have leaked.
          </li>
          <li>
            Least privilege: give each client only the methods it needs. Never hand out admin.macaroon or an
            unrestricted rune.
          </li>
          <li>Time-limited: give every credential an expiry.</li>
          <li>
            IP-restricted: tie macaroons to the client’s address or network. Runes cannot carry an IP: tie
            them to a peer id and a rate.
          </li>
          <li>
            Revoke the old ones: Core Lightning <code>lightning-cli blacklistrune start=N</code> (ids from{' '}
            <code>showrunes</code>); LND <code>lncli deletemacaroonid ID</code> for other root key ids, and{' '}
            <code>lncli changepassword --new_mac_root_key</code> to replace the default root key (every
            macaroon made with it stops working).
          </li>
        </ul>
        <div className="row">
          <label htmlFor="rot-date">Last rotation</label>
          <input
            id="rot-date"
            type="date"
            className="cred-date"
            value={rotationDate}
            onChange={(e) => setRotationDate(e.target.value)}
          />
          <button type="button" disabled={rotationDate === ''} onClick={() => void record(rotationDate)}>
            Record
          </button>
          <button type="button" onClick={() => void record(today()).then(() => setRotationDate(today()))}>
            Rotated today
          </button>
        </div>
        <p
          role="status"
          data-testid="rotation-status"
          className={
            rotation?.overdue ? 'verdict bad' : rotation?.lastRotation ? 'verdict ok' : 'verdict warn'
          }
        >
          {!rotation?.lastRotation
            ? 'No rotation recorded in this session.'
            : `Last rotation ${rotation.lastRotation}; next due ${rotation.nextDue} (${
                rotation.overdue
                  ? `overdue by ${-(rotation.daysLeft ?? 0)} day${rotation.daysLeft === -1 ? '' : 's'}`
                  : rotation.daysLeft === 0
                    ? 'today'
                    : `in ${rotation.daysLeft} day${rotation.daysLeft === 1 ? '' : 's'}`
              }).`}
        </p>
        <p className="hint">
          The date is kept in this app’s memory until it quits, never written to disk: put the due date in
          your own calendar.
        </p>
      </fieldset>
    </section>
  );
}
