/**
 * Is the rebuilt state the node's newest? (issue 11) The engine's verdict from the sealed policy —
 * proven fresh only when n − k + 1 of the node's own servers answered — and, per source, what it
 * holds against the newest: newest, behind by N, diverged, missing, unreachable, refused, each with
 * its reason. Never reads as fresh when it is not proven: what is missing is named.
 */
import type { SourceFreshnessView, VerdictView } from '../../../shared/ipc/contract';
import { when } from './time';

const short = (sid: string) => `${sid.slice(0, 10)}…${sid.slice(-4)}`;

/** The outcome as a person reads it. */
export function outcomeText(s: SourceFreshnessView): string {
  switch (s.outcome) {
    case 'newest':
      return 'newest';
    case 'behind':
      return `behind by ${s.behindBy} data_version${s.behindBy === 1 ? '' : 's'}`;
    case 'diverged':
      return 'diverged (another history)';
    case 'missing':
      return 'no backup of this node';
    case 'unreachable':
      return 'could not be read';
    default:
      return 'refused';
  }
}

const PILL: Record<SourceFreshnessView['outcome'], string> = {
  newest: 'pill read',
  behind: 'pill failed',
  diverged: 'pill failed',
  missing: 'pill not_ours',
  unreachable: 'pill failed',
  refused: 'pill failed',
};

export function FreshnessPanel({ verdict }: { verdict: VerdictView }) {
  const f = verdict.freshness;
  const proven = f.state === 'proven';
  const more = f.needed !== undefined ? f.needed - f.answered : 0;
  return (
    <section className="freshness" data-testid="freshness" aria-labelledby="freshness-title">
      <h3 id="freshness-title">Is this the newest state?</h3>
      <p className={proven ? 'verdict ok' : 'verdict bad'} data-testid="freshness-state">
        <strong>{proven ? 'Proven fresh.' : 'Not proven to be the newest state.'}</strong> {f.reason}
      </p>
      {f.policy && (
        <p className="hint" data-testid="freshness-policy">
          The backup itself names {f.policy.servers} servers and k = {f.policy.quorum} (sealed in its increments, so no server can lower them): any{' '}
          {f.needed} of them hold every write lightningd committed. {f.answered} answered.
        </p>
      )}
      {!proven && f.policy && f.missingServers.length > 0 && more > 0 && (
        <div className="callout" data-testid="freshness-missing">
          <p>
            <strong>
              Read {more} more of the node&apos;s servers to prove it
            </strong>{' '}
            (online, or a copy of its directory), as another source in the list above, then search and rebuild again. Not read yet:
          </p>
          <ul className="mono small">
            {f.missingServers.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
        </div>
      )}
      <table className="channels stack-narrow" data-testid="freshness-sources">
        <caption className="visually-hidden">Each source against the newest state</caption>
        <thead>
          <tr>
            <th>source</th>
            <th>outcome</th>
            <th>data_version</th>
            <th>last increment</th>
            <th>why</th>
          </tr>
        </thead>
        <tbody>
          {verdict.sourceOutcomes.map((s, i) => (
            <tr key={i} data-testid="freshness-source">
              <td data-label="source" className="mono small">
                {s.name}
                {s.serverId && (
                  <span className="hint">
                    {' '}
                    (server {short(s.serverId)}
                    {s.policyServer === false ? ', not one of the node’s servers' : ''})
                  </span>
                )}
              </td>
              <td data-label="outcome">
                <span className={PILL[s.outcome]}>{outcomeText(s)}</span>
              </td>
              <td data-label="data_version">{s.dataVersion ?? '—'}</td>
              <td data-label="last increment">{s.time !== undefined ? when(s.time) : '—'}</td>
              <td data-label="why">{s.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
