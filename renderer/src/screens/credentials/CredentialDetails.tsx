import type { CredentialView } from '../../../../shared/ipc/contract';

type Verification = NonNullable<NonNullable<CredentialView['macaroon']>['verification']>;

function VerificationView({ view, v, testId }: { view: CredentialView; v: Verification; testId: string }) {
  return (
    <div data-testid={`${testId}-verification`}>
      <p className={v.verdict === 'valid' ? 'verdict ok' : v.verdict === 'invalid' ? 'verdict bad' : 'verdict warn'} role="status">
        {v.verdict === 'valid' ? 'Valid' : v.verdict === 'invalid' ? 'Invalid' : 'Valid only if the conditions below hold'} at {view.checkedAt}
        {view.checkedIp ? ` from ${view.checkedIp}` : ' (client IP not given)'}; signature{' '}
        {v.signatureValid ? 'matches this root key' : 'does NOT match this root key'}.
      </p>
      {v.caveats.length > 0 && (
        <table className="channels cred-checks stack-narrow">
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
                <td data-label="caveat" className="mono small">
                  {c.condition}
                </td>
                <td data-label="result">
                  <span className={`pill ${c.status}`}>{c.status}</span>
                </td>
                <td data-label="why">{c.reason}</td>
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
  );
}

/** What a credential allows, and what was checked. */
export function CredentialDetails({ view, testId }: { view: CredentialView; testId: string }) {
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
        <p className="verdict ok">Made by the loaded node’s secret: the node accepts it while its restrictions hold and its unique id is not blacklisted.</p>
      )}
      {r && r.authentic === false && <p className="verdict bad">Not made by the loaded node’s secret: {r.notAuthenticReason}.</p>}
      {r?.unrestricted && (
        <p className="verdict bad">Unrestricted: it can do anything the node can, including spending its funds. Restrict it before handing it out.</p>
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
      {v && <VerificationView view={view} v={v} testId={testId} />}
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
