import { useRef, useState } from 'react';
import type { InstallCheckView, InstallView } from '../../../shared/ipc/contract';
import { defaultQuorum, MAX_SERVERS } from '../../../shared/cldcb/quorum';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { GroupedId } from '../components/NodeIdDisplay';

/** One server row of the form (the key keeps React's rows apart when one is removed). */
interface ServerRow {
  key: number;
  text: string;
}

const hasProblem = (c: InstallCheckView) => c.list !== null || c.quorum !== null || c.servers.some((p) => p !== null);

/** What k means for n servers, in a sentence (only for a k that is in range). */
function quorumMeaning(n: number, k: number): string {
  const away = n - k;
  return (
    `lightningd commits a write once ${k} of the ${n} servers stored it, so it keeps running while ${away === 0 ? 'none' : `${away}`} ${away === 1 ? 'is' : 'are'} away` +
    `${away === 0 ? ' (any one server away stops it, as with one server)' : ''}; a recovery that reads any ${n - k + 1} of them proves it has the newest state.`
  );
}

export function Install({ secret }: ScreenProps) {
  const [rows, setRows] = useState<ServerRow[]>([{ key: 0, text: '' }]);
  const nextKey = useRef(1);
  const [quorum, setQuorum] = useState('');
  const [quorumTouched, setQuorumTouched] = useState(false);
  const [problems, setProblems] = useState<InstallCheckView | null>(null);
  const [proxy, setProxy] = useState('');
  const [pluginCommand, setPluginCommand] = useState('');
  const [view, setView] = useState<InstallView | null>(null);
  const [saved, setSaved] = useState<string[]>([]);
  const prepareAction = useAction();
  const saveAction = useAction();
  const run = saveAction.run;
  if (!secret) return null;
  const n = rows.length;
  // k follows the number of servers (a majority) until the operator types one.
  const k = quorumTouched ? quorum : String(defaultQuorum(n));
  const kNumber = /^\d+$/.test(k.trim()) ? Number(k.trim()) : NaN;
  const note = (r: { path: string } | null | undefined) => r && setSaved((s) => [...s, r.path]);
  const fieldId = (key: number) => `inst-server-${key}`;

  const setRow = (key: number, text: string) => {
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, text } : r)));
    const i = rows.findIndex((r) => r.key === key);
    setProblems((p) => (p ? { ...p, servers: p.servers.map((x, j) => (j === i ? null : x)), quorum: null, list: null } : p));
  };
  const addRow = () => {
    const key = nextKey.current++;
    setRows((rs) => [...rs, { key, text: '' }]);
    setProblems(null);
    setTimeout(() => document.getElementById(fieldId(key))?.focus(), 0);
  };
  const removeRow = (key: number) => {
    const i = rows.findIndex((r) => r.key === key);
    const left = rows.filter((r) => r.key !== key);
    setRows(left);
    setProblems(null);
    const next = left[Math.min(i, left.length - 1)];
    setTimeout(() => next && document.getElementById(fieldId(next.key))?.focus(), 0);
  };

  const prepare = async () => {
    const servers = rows.map((r) => r.text);
    const choice = { servers, ...(n > 1 ? { quorum: k } : {}) };
    // The same rules as `cldcb-client installplugin`, judged in the backend: each problem goes beside its field.
    const check = await prepareAction.run(() => call(api().install.check(choice)));
    if (!check) return;
    if (hasProblem(check)) {
      setProblems(check);
      const bad = check.servers.findIndex((p) => p !== null);
      document.getElementById(bad >= 0 ? fieldId(rows[bad]!.key) : check.quorum !== null ? 'inst-quorum' : fieldId(rows[0]!.key))?.focus();
      return;
    }
    setProblems(null);
    const v = await prepareAction.run(() =>
      call(api().install.prepare({ ...choice, ...(proxy.trim() ? { proxy } : {}), ...(pluginCommand.trim() ? { pluginCommand } : {}) })),
    );
    if (v) {
      setView(v);
      setSaved([]);
    }
  };

  const several = view ? view.servers.length > 1 : false;
  return (
    <section aria-labelledby="install-title">
      <h1 id="install-title" tabIndex={-1}>
        Install the backup (key ceremony)
      </h1>
      <p>
        Offline, this laptop makes a client key for the plugin and signs its recognition code with your node key (so that you, and only you, can find
        your backup on the server later). Carry the wrapper to the node and the client id to the server operator. With several servers, each gets its
        own client key (their operators cannot link your backups), every write goes to all of them, and the node keeps running while some are away.
      </p>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void prepare();
        }}
      >
        <fieldset>
          <legend>Backup servers</legend>
          <p className="hint">SID@HOST:PORT each: SID is in the server's server_id file (52… or 53…).</p>
          {rows.map((r, i) => {
            const problem = problems?.servers[i] ?? null;
            return (
              <div className="field" key={r.key}>
                <label htmlFor={fieldId(r.key)}>Backup server {i + 1}</label>
                <div className="row tight">
                  <input
                    id={fieldId(r.key)}
                    className="mono grow"
                    spellCheck={false}
                    autoComplete="off"
                    value={r.text}
                    aria-invalid={problem ? true : undefined}
                    aria-describedby={problem ? `${fieldId(r.key)}-problem` : undefined}
                    onChange={(e) => setRow(r.key, e.target.value)}
                  />
                  {n > 1 && (
                    <button type="button" aria-label={`Remove server ${i + 1}`} onClick={() => removeRow(r.key)}>
                      Remove
                    </button>
                  )}
                </div>
                {problem && (
                  <p id={`${fieldId(r.key)}-problem`} className="error-banner" role="alert" data-testid={`server-problem-${i + 1}`}>
                    {problem}
                  </p>
                )}
              </div>
            );
          })}
          <button type="button" onClick={addRow} disabled={n >= MAX_SERVERS}>
            {n >= MAX_SERVERS ? `A wrapper holds at most ${MAX_SERVERS} servers` : 'Add another server'}
          </button>
          {problems?.list && (
            <p className="error-banner" role="alert">
              {problems.list}
            </p>
          )}
          {n > 1 && (
            <div className="field">
              <label htmlFor="inst-quorum">k: how many of the {n} servers must store each write before lightningd commits it</label>
              <input
                id="inst-quorum"
                className="short mono"
                inputMode="numeric"
                autoComplete="off"
                value={k}
                aria-invalid={problems?.quorum ? true : undefined}
                aria-describedby="inst-quorum-help"
                onChange={(e) => {
                  setQuorum(e.target.value);
                  setQuorumTouched(true);
                  setProblems((p) => (p ? { ...p, quorum: null } : p));
                }}
              />
              <p id="inst-quorum-help" className={problems?.quorum ? 'error-banner' : 'hint'} role={problems?.quorum ? 'alert' : undefined} data-testid="quorum-help">
                {problems?.quorum ??
                  `1 to ${n}; default ${defaultQuorum(n)} (a majority). ${kNumber >= 1 && kNumber <= n ? `With k = ${kNumber}: ${quorumMeaning(n, kNumber)}` : ''}`}
              </p>
            </div>
          )}
        </fieldset>
        <label htmlFor="inst-proxy">SOCKS5 proxy for the plugin (optional, e.g. 127.0.0.1:9050 for Tor)</label>
        <input id="inst-proxy" className="mono" spellCheck={false} value={proxy} onChange={(e) => setProxy(e.target.value)} />
        <label htmlFor="inst-cmd">Plugin command on the node (default: cldcb-plugin on the PATH)</label>
        <input id="inst-cmd" className="mono" spellCheck={false} value={pluginCommand} onChange={(e) => setPluginCommand(e.target.value)} />
        <button type="submit" disabled={rows.every((r) => !r.text.trim())}>
          {n > 1 ? 'Make the client keys and sign' : 'Make the client key and sign'}
        </button>
        <ActionError action={prepareAction} />
      </form>
      {view && (
        <ResultRegion show={view} testId="install-result" label="Install result">
          {several && (
            <p className="verdict ok" data-testid="install-quorum">
              {view.servers.length} servers, k = {view.quorum}: {quorumMeaning(view.servers.length, view.quorum!)}
            </p>
          )}
          <ol className="install-servers">
            {view.servers.map((s, i) => {
              const which = several ? ` of server ${i + 1}` : '';
              return (
                <li key={s.serverId} data-testid={`install-server-${i + 1}`}>
                  {several && (
                    <h2 className="small-heading">
                      Server {i + 1}: <span className="mono small">{`${s.serverId.slice(0, 12)}…@${s.serverHost}`}</span>
                    </h2>
                  )}
                  <div className="row">
                    {s.clientIdQr && <img className="qr" src={s.clientIdQr} alt={`QR code of the client id${which}`} />}
                    <div className="grow">
                      <p>Client id{which} (give it to {several ? 'this' : 'the'} server's operator):</p>
                      <p className="mono small">
                        <GroupedId id={s.clientId} testId={`client-id-${i + 1}`} />
                      </p>
                      <p className="hint">The server's operator runs:</p>
                      <pre className="command" data-testid={`add-line-${i + 1}`}>
                        {s.serverCommand}
                      </pre>
                    </div>
                  </div>
                  <div className="row">
                    <button type="button" onClick={() => void run(() => call(api().install.saveClientId({ server: i }))).then(note)}>
                      Save client id{which}…
                    </button>
                    <button type="button" onClick={() => void run(() => call(api().install.saveClientKey({ server: i }))).then(note)}>
                      Save client key file{which}…
                    </button>
                  </div>
                </li>
              );
            })}
          </ol>
          <p>The plugin wrapper (holds the client private key{several ? 's' : ''}: keep it readable by the lightningd user only):</p>
          <pre className="command" data-testid="wrapper-preview">
            {view.wrapperPreview}
          </pre>
          <p>
            Put it in the lightning directory and add to lightningd's config: <code>{view.configLine}</code> (or <code>important-plugin=</code>, so
            lightningd stops rather than run without backups).
          </p>
          <div className="row">
            <button type="button" onClick={() => void run(() => call(api().install.saveWrapper({}))).then(note)}>
              Save wrapper…
            </button>
          </div>
          <ActionError action={saveAction} />
          {saved.map((p) => (
            <p key={p} className="verdict ok" role="status">
              Saved {p}
            </p>
          ))}
        </ResultRegion>
      )}
    </section>
  );
}
