import { useState } from 'react';
import type { InstallView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { GroupedId } from '../components/NodeIdDisplay';

export function Install({ secret }: ScreenProps) {
  const [server, setServer] = useState('');
  const [proxy, setProxy] = useState('');
  const [pluginCommand, setPluginCommand] = useState('');
  const [view, setView] = useState<InstallView | null>(null);
  const [saved, setSaved] = useState<string[]>([]);
  const prepareAction = useAction();
  const saveAction = useAction();
  const run = saveAction.run;
  if (!secret) return null;
  const note = (r: { path: string } | null | undefined) => r && setSaved((s) => [...s, r.path]);
  return (
    <section aria-labelledby="install-title">
      <h1 id="install-title" tabIndex={-1}>
        Install the backup (key ceremony)
      </h1>
      <p>
        Offline, this laptop makes a client key for the plugin and signs its recognition code with your node key (so that you, and
        only you, can find your backup on the server later). Carry the wrapper to the node and the client id to the server operator.
      </p>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void prepareAction.run(() => call(api().install.prepare({ server, ...(proxy.trim() ? { proxy } : {}), ...(pluginCommand.trim() ? { pluginCommand } : {}) }))).then(
            (v) => {
              if (v) {
                setView(v);
                setSaved([]);
              }
            },
          );
        }}
      >
        <label htmlFor="inst-server">Backup server (SID@HOST:PORT; SID is in the server's server_id file)</label>
        <input id="inst-server" className="mono" spellCheck={false} value={server} onChange={(e) => setServer(e.target.value)} />
        <label htmlFor="inst-proxy">SOCKS5 proxy for the plugin (optional, e.g. 127.0.0.1:9050 for Tor)</label>
        <input id="inst-proxy" className="mono" spellCheck={false} value={proxy} onChange={(e) => setProxy(e.target.value)} />
        <label htmlFor="inst-cmd">Plugin command on the node (default: cldcb-plugin on the PATH)</label>
        <input id="inst-cmd" className="mono" spellCheck={false} value={pluginCommand} onChange={(e) => setPluginCommand(e.target.value)} />
        <button type="submit" disabled={!server.trim()}>
          Make the client key and sign
        </button>
        <ActionError action={prepareAction} />
      </form>
      {view && (
        <ResultRegion show={view} testId="install-result">
          <div className="row">
            {view.clientIdQr && <img className="qr" src={view.clientIdQr} alt="QR code of the client id" />}
            <div>
              <p>Client id (give it to the server operator):</p>
              <p className="mono small">
                <GroupedId id={view.clientId} testId="client-id" />
              </p>
              <pre className="command">{view.serverCommand}</pre>
            </div>
          </div>
          <p>The plugin wrapper (holds the client private key: keep it readable by the lightningd user only):</p>
          <pre className="command" data-testid="wrapper-preview">
            {view.wrapperPreview}
          </pre>
          <p>
            Put it in the lightning directory and add to lightningd's config: <code>{view.configLine}</code> (or{' '}
            <code>important-plugin=</code>, so lightningd stops rather than run without backups).
          </p>
          <div className="row">
            <button type="button" onClick={() => void run(() => call(api().install.saveWrapper({}))).then(note)}>
              Save wrapper…
            </button>
            <button type="button" onClick={() => void run(() => call(api().install.saveClientId({}))).then(note)}>
              Save client id…
            </button>
            <button type="button" onClick={() => void run(() => call(api().install.saveClientKey({}))).then(note)}>
              Save client key file…
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
