import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppInfo, SecretInfo } from '../../shared/ipc/contract';
import { api, call } from './api';
import { ActionError, useAction } from './components/Feedback';
import { OnlineActivityContext } from './components/Online';
import type { Goal } from './components/Goal';
import { Home } from './screens/Home';
import { ImportSecret } from './screens/ImportSecret';
import { NodeIdConfirm } from './screens/NodeIdConfirm';
import { PaperVerify } from './screens/PaperVerify';
import { PrintSheet } from './screens/PrintSheet';
import { ExportSecret } from './screens/ExportSecret';
import { ScbRecovery } from './screens/ScbRecovery';
import { Recover } from './screens/Recover';
import { Drill } from './screens/Drill';
import { Install } from './screens/Install';
import { BackupStatus } from './screens/BackupStatus';
import { Credentials } from './screens/Credentials';

export type Screen = 'home' | 'import' | 'nodeid' | 'paper' | 'sheet' | 'export' | 'scb' | 'recover' | 'drill' | 'install' | 'status' | 'credentials';

/** What a screen may be opened with (e.g. the paper check opened from a node id mismatch). */
export interface ScreenParams {
  /** A node id the operator typed: the paper check compares the copy with it. */
  nodeId?: string;
}

/** What every screen gets: the loaded secret's public facts, navigation and the operator's goal. */
export interface ScreenProps {
  secret: SecretInfo | null;
  setSecret(s: SecretInfo | null): void;
  go(screen: Screen, params?: ScreenParams): void;
  params: ScreenParams;
  /** The journey the operator chose on Home (carried until it ends or they leave it). */
  goal: Goal | null;
  setGoal(goal: Goal | null): void;
}

const NAV: { screen: Screen; label: string; needsSecret?: boolean }[] = [
  { screen: 'home', label: 'Home' },
  { screen: 'import', label: 'Import secret' },
  { screen: 'recover', label: 'Recover database', needsSecret: true },
  { screen: 'nodeid', label: 'Node id', needsSecret: true },
  { screen: 'paper', label: 'Verify paper backup' },
  { screen: 'sheet', label: 'Print sheet', needsSecret: true },
  { screen: 'export', label: 'Export secret', needsSecret: true },
  { screen: 'scb', label: 'SCB force-close recovery', needsSecret: true },
  { screen: 'install', label: 'Install backup', needsSecret: true },
  { screen: 'status', label: 'Backup status' },
  { screen: 'drill', label: 'Drill' },
  { screen: 'credentials', label: 'Credentials' },
];

/** "Forget secret" asks first: it wipes the session (secret, recovery, SCB list, install keys) in one click otherwise. */
function ForgetSecret({ onForget }: { onForget(): Promise<unknown> }) {
  const [asking, setAsking] = useState(false);
  const keep = useRef<HTMLButtonElement | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  useEffect(() => {
    if (asking) keep.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button ref={opener} type="button" className="link" onClick={() => setAsking(true)}>
        Forget secret
      </button>
    );
  return (
    <span className="forget-confirm" role="group" aria-label="Forget the secret?">
      <span>Forget the secret? This also clears the recovery, SCB and install results.</span>
      <button type="button" className="danger" onClick={() => void onForget().then(() => setAsking(false))}>
        Forget it
      </button>
      <button
        ref={keep}
        type="button"
        onClick={() => {
          setAsking(false);
          setTimeout(() => opener.current?.focus(), 0);
        }}
      >
        Keep it
      </button>
    </span>
  );
}

export function App() {
  const [screen, setScreen] = useState<Screen>('home');
  const [params, setParams] = useState<ScreenParams>({});
  const [secret, setSecret] = useState<SecretInfo | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [goal, setGoal] = useState<Goal | null>(null);
  const [onlineActs, setOnlineActs] = useState<ReadonlyMap<string, string>>(new Map());
  const main = useRef<HTMLElement | null>(null);
  const forgetAction = useAction();

  useEffect(() => {
    void call(api().app.info({})).then(setInfo, () => undefined);
    void call(api().secret.current({})).then(setSecret, () => undefined);
  }, []);

  const go = useCallback((s: Screen, p: ScreenParams = {}) => {
    setParams(p);
    setScreen(s);
  }, []);

  const setOnlineActivity = useCallback((key: string, label: string | null) => {
    setOnlineActs((m) => {
      if ((m.get(key) ?? null) === label) return m;
      const next = new Map(m);
      if (label === null) next.delete(key);
      else next.set(key, label);
      return next;
    });
  }, []);

  // Move focus to the new screen's heading so keyboard and screen-reader users start at its top
  // (not at start-up: the first Tab then reaches the skip link).
  const started = useRef(false);
  useEffect(() => {
    if (started.current) main.current?.querySelector<HTMLElement>('h1')?.focus();
    started.current = true;
  }, [screen]);

  const forget = () =>
    forgetAction.run(async () => {
      await call(api().secret.forget({}));
      setSecret(null);
      setGoal(null);
      go('home');
    });

  const online = (info?.online ?? false) || onlineActs.size > 0;
  const onlineWhat = [...onlineActs.values()].join('; ');
  const props: ScreenProps = { secret, setSecret, go, params, goal, setGoal };
  return (
    <OnlineActivityContext.Provider value={setOnlineActivity}>
      <div className="app">
        <a
          className="skip-link"
          href="#main"
          onClick={(e) => {
            e.preventDefault();
            const h1 = main.current?.querySelector<HTMLElement>('h1');
            (h1 ?? main.current)?.focus();
          }}
        >
          Skip to content
        </a>
        <header className="topbar">
          <span className="brand">CLDCB Recovery</span>
          <span
            className={online ? 'mode online' : 'mode offline'}
            aria-live="polite"
            aria-label={online ? `Online now${onlineWhat ? `: ${onlineWhat}` : ''}` : 'Offline: this app makes no connections'}
            data-testid="network-mode"
          >
            {online ? `Online${onlineWhat ? ` — ${onlineWhat}` : ''}` : 'Offline'}
          </span>
          {secret ? (
            <span className="loaded" data-testid="loaded-node">
              <span>
                Secret loaded · node {secret.nodeId.slice(0, 8)}…{secret.nodeId.slice(-6)}
              </span>
              <ForgetSecret onForget={forget} />
            </span>
          ) : (
            <span className="loaded none">No secret loaded</span>
          )}
        </header>
        <nav className="sidebar" aria-label="Screens">
          <ul>
            {NAV.map((n) => (
              <li key={n.screen}>
                <button
                  type="button"
                  className={n.screen === screen ? 'nav active' : 'nav'}
                  aria-current={n.screen === screen ? 'page' : undefined}
                  disabled={n.needsSecret && !secret}
                  onClick={() => go(n.screen)}
                >
                  {n.label}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <main className="content" id="main" tabIndex={-1} ref={main}>
          <ActionError action={forgetAction} />
          {screen === 'home' && <Home {...props} />}
          {screen === 'import' && <ImportSecret {...props} />}
          {screen === 'nodeid' && <NodeIdConfirm {...props} />}
          {screen === 'paper' && <PaperVerify {...props} />}
          {screen === 'sheet' && <PrintSheet {...props} />}
          {screen === 'export' && <ExportSecret {...props} />}
          {screen === 'scb' && <ScbRecovery {...props} />}
          {screen === 'recover' && <Recover {...props} />}
          {screen === 'drill' && <Drill {...props} />}
          {screen === 'install' && <Install {...props} />}
          {screen === 'status' && <BackupStatus {...props} />}
          {screen === 'credentials' && <Credentials {...props} />}
        </main>
      </div>
    </OnlineActivityContext.Provider>
  );
}
