import { useState } from 'react';
import type { ScbView } from '../../../shared/ipc/contract';
import type { RecoveryProgress } from '../../../shared/scb';
import type { ScreenProps } from '../App';
import { api, call, fileToBase64 } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { GoalSteps } from '../components/Goal';
import { GroupedId } from '../components/NodeIdDisplay';
import { SaveReportButtons } from '../components/SaveReportButtons';

type Source = 'emergency.recover' | 'staticbackup' | 'database';
type Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

const STATE_LABEL: Record<string, string> = {
  not_restored: 'not restored yet',
  waiting_for_peer: 'waiting for peer',
  force_closed: 'force-closed',
  to_remote_confirmed: 'to_remote confirmed',
  swept: 'swept',
};

const sat = (n: number) => `${n.toLocaleString('en-US')} sat`;

function NetworkWarnings({ view }: { view: ScbView }) {
  if (view.networkWarnings.length === 0) return null;
  return (
    <div className="callout bad" role="alert" data-testid="network-warning">
      <strong>The network may be wrong.</strong>
      <ul>
        {view.networkWarnings.map((w, i) => (
          <li key={i}>{w}</li>
        ))}
      </ul>
    </div>
  );
}

function ChannelTable({ view, progress }: { view: ScbView; progress: RecoveryProgress | null }) {
  const stateOf = (channelId: string) => progress?.channels.find((c) => c.channel_id === channelId);
  return (
    <div className="table-wrap">
      <table className="channels stack-narrow" data-testid="scb-channels">
        <thead>
          <tr>
            <th>dbid</th>
            <th>peer</th>
            <th>funding outpoint · channel id</th>
            <th>amount</th>
            <th>type · opener</th>
            <th>our to_remote address ({view.network})</th>
            <th>state</th>
          </tr>
        </thead>
        <tbody>
          {view.channels.map((c) => {
            const p = stateOf(c.channel_id);
            return (
              <tr key={c.channel_id}>
                <td data-label="dbid">{c.dbid}</td>
                <td data-label="peer" className="small">
                  <GroupedId id={c.peer_id} />
                  <br />
                  <span className="mono">{c.peer_address ?? 'address unknown'}</span>
                </td>
                <td data-label="funding outpoint · channel id" className="small">
                  <GroupedId id={`${c.funding_txid}:${c.funding_outnum}`} />
                  <br />
                  <GroupedId id={c.channel_id} />
                </td>
                <td data-label="amount">{sat(c.funding_sat)}</td>
                <td data-label="type · opener">
                  {c.channel_type.names.join(', ') || 'legacy'} · {c.opener ?? 'opener unknown'}
                </td>
                <td data-label={`our to_remote address (${view.network})`} className="mono small" data-testid="to-remote">
                  {c.to_remote.address}
                </td>
                <td data-label="state">
                  <span className={`pill ${p?.state ?? 'none'}`}>{p ? STATE_LABEL[p.state] : '—'}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function ScbRecovery({ secret, goal, setGoal }: ScreenProps) {
  const [source, setSource] = useState<Source>('emergency.recover');
  const [network, setNetwork] = useState<Network>('bitcoin');
  const [view, setView] = useState<ScbView | null>(null);
  const [rpc, setRpc] = useState({ listpeerchannels: '', listfunds: '', listclosedchannels: '' });
  const [progress, setProgress] = useState<RecoveryProgress | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const loadAction = useAction();
  const trackAction = useAction();
  const payloadAction = useAction();
  if (!secret) return null;

  const load = async (f: File) => {
    setProgress(null);
    const v = await loadAction.run(async () => call(api().scb.load({ source, network, fileName: f.name, bytesB64: await fileToBase64(f) })));
    if (v) setView(v);
  };
  // Every change of network makes the addresses and steps again.
  const chooseNetwork = async (n: Network) => {
    setNetwork(n);
    if (!view) return;
    setProgress(null);
    const v = await loadAction.run(() => call(api().scb.setNetwork({ network: n })));
    if (v) setView(v);
  };
  const loadRpc = async (key: keyof typeof rpc, f: File) => setRpc({ ...rpc, [key]: await f.text() });
  const track = async () => {
    const p = await trackAction.run(() => call(api().scb.track(rpc)));
    if (p) setProgress(p);
  };

  return (
    <section aria-labelledby="scb-title">
      <GoalSteps goal={goal === 'scb' ? 'scb' : null} current={view ? 3 : 2} onLeave={() => setGoal(null)} />
      <h1 id="scb-title" tabIndex={-1}>
        Get the channel funds back (static channel backup)
      </h1>
      <p className="verdict warn">
        Use this when the channel database is lost or may be stale. Never start lightningd on a stale database: revoked states can be
        punished and every channel lost. Never delete the hsm_secret.
      </p>
      <fieldset>
        <legend>Where is the channel list?</legend>
        <div className="row">
          <label>
            <input type="radio" name="src" checked={source === 'emergency.recover'} onChange={() => setSource('emergency.recover')} />{' '}
            emergency.recover (from the node's directory, or returned by peers)
          </label>
          <label>
            <input type="radio" name="src" checked={source === 'staticbackup'} onChange={() => setSource('staticbackup')} /> staticbackup RPC
            output (JSON)
          </label>
          <label>
            <input type="radio" name="src" checked={source === 'database'} onChange={() => setSource('database')} /> a (rebuilt) lightningd.sqlite3
          </label>
        </div>
        <div className="row">
          <label htmlFor="scb-network">Network</label>
          <select id="scb-network" value={network} onChange={(e) => void chooseNetwork(e.target.value as Network)}>
            <option value="bitcoin">bitcoin (mainnet)</option>
            <option value="testnet">testnet</option>
            <option value="signet">signet</option>
            <option value="regtest">regtest</option>
          </select>
          <label className="button">
            Open file…
            <input
              type="file"
              className="visually-hidden"
              data-testid="scb-file"
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) void load(f);
                e.target.value = ''; // choosing the same file again loads it again
              }}
            />
          </label>
        </div>
        <ActionError action={loadAction} />
        {view && <NetworkWarnings view={view} />}
      </fieldset>

      {view && (
        <>
          <ResultRegion show={view}>
            <p role="status" data-testid="scb-summary">
              {view.channels.length} channel{view.channels.length === 1 ? '' : 's'} from {view.source} on {view.network},{' '}
              {sat(view.channels.reduce((a, c) => a + c.funding_sat, 0))} in total.
              {view.backupTimestamp ? ` Backup written ${new Date(view.backupTimestamp * 1000).toISOString()}.` : ''}
              {view.keyNote ? ` ${view.keyNote}` : ''}
            </p>
          </ResultRegion>
          <ChannelTable view={view} progress={progress} />

          <h2>What to do, step by step</h2>
          <ol className="steps">
            {view.steps.map((s) => (
              <li key={s.id} className={s.warning ? 'warn' : undefined}>
                <strong>{s.title}</strong>
                <p>{s.detail}</p>
                {s.command && <pre className="command">{s.command}</pre>}
              </li>
            ))}
          </ol>
          <fieldset>
            <legend>Carry the recoverchannel payload to the online machine</legend>
            <div className="row">
              {view.recoverChannel.qrSvgDataUrl ? (
                <img className="qr" src={view.recoverChannel.qrSvgDataUrl} alt="QR code of the recoverchannel payload" />
              ) : (
                <p className="hint" data-testid="payload-no-qr">
                  Too large for a QR code a phone can scan: carry the payload file (on a USB stick) instead.
                </p>
              )}
              <button type="button" onClick={() => void payloadAction.run(() => call(api().scb.savePayload({}))).then((r) => r && setSaved(r.path))}>
                Save payload file…
              </button>
            </div>
            <ActionError action={payloadAction} />
          </fieldset>

          <h2>Follow each channel</h2>
          <p>
            On the recovering node run <code>lightning-cli listpeerchannels</code>, <code>listfunds</code> and <code>listclosedchannels</code>,
            bring the outputs here (paste or open the files), and update.
          </p>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void track();
            }}
          >
            {(['listpeerchannels', 'listfunds', 'listclosedchannels'] as const).map((k) => (
              <div className="rpc" key={k}>
                <label htmlFor={`rpc-${k}`}>{k} output</label>
                <textarea id={`rpc-${k}`} className="mono" rows={3} spellCheck={false} value={rpc[k]} onChange={(e) => setRpc({ ...rpc, [k]: e.target.value })} />
                <label className="button small">
                  Open {k}.json…
                  <input
                    type="file"
                    className="visually-hidden"
                    data-testid={`rpc-file-${k}`}
                    onChange={(e) => {
                      const f = e.target.files?.[0];
                      if (f) void loadRpc(k, f);
                      e.target.value = '';
                    }}
                  />
                </label>
              </div>
            ))}
            <button type="submit">Update the tracker</button>
            <ActionError action={trackAction} id="tracker-error" />
          </form>
          {progress && (
            <ResultRegion show={progress} className="tracker" testId="tracker">
              <p role="status">
                {progress.done
                  ? 'Every channel is done: the funds are back on chain.'
                  : `Remaining: ${progress.channels.filter((c) => c.state !== 'swept' && c.state !== 'to_remote_confirmed').length} of ${progress.channels.length} channels.`}
              </p>
              <ul>
                {progress.channels.map((c) => (
                  <li key={c.channel_id}>
                    <span className={`pill ${c.state}`}>{STATE_LABEL[c.state]}</span> channel {c.dbid} with {c.peer_id.slice(0, 12)}…: {c.next_step}
                    <details>
                      <summary>Why</summary>
                      <ul>
                        {c.evidence.map((e, i) => (
                          <li key={i}>{e}</li>
                        ))}
                      </ul>
                    </details>
                  </li>
                ))}
              </ul>
              <h3>Watch list (check on any block explorer)</h3>
              <ul className="mono small" data-testid="watch-list">
                {progress.watch.map((w, i) => (
                  <li key={i}>
                    {w.kind === 'to_remote' ? 'to_remote address' : 'funding outpoint'}: {w.target}
                  </li>
                ))}
              </ul>
            </ResultRegion>
          )}
          <SaveReportButtons save={(format) => api().scb.saveReport({ format })} print={() => api().scb.printReport({})} onSaved={setSaved} />
          {saved && (
            <p role="status" className="verdict ok">
              Saved to {saved}
            </p>
          )}
        </>
      )}
    </section>
  );
}
