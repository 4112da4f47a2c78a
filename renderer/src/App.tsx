import { useCallback, useEffect, useRef, useState } from 'react';
import type { ErrorData } from '../../shared/errors';
import type { AppInfo, SecretInfo } from '../../shared/ipc/contract';
import { api, call, isErrorData } from './api';
import { ErrorBanner } from './components/ErrorBanner';
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
import { Credentials } from './screens/Credentials';

export type Screen = 'home' | 'import' | 'nodeid' | 'paper' | 'sheet' | 'export' | 'scb' | 'recover' | 'drill' | 'install' | 'credentials';

/** What every screen gets: the loaded secret's public facts, navigation and the one error surface. */
export interface ScreenProps {
  secret: SecretInfo | null;
  setSecret(s: SecretInfo | null): void;
  go(screen: Screen): void;
  /** Run an action; a failure lands in the error banner. Returns undefined on failure. */
  run<T>(action: () => Promise<T>): Promise<T | undefined>;
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
  { screen: 'drill', label: 'Drill' },
  { screen: 'credentials', label: 'Credentials' },
];

export function App() {
  const [screen, setScreen] = useState<Screen>('home');
  const [secret, setSecret] = useState<SecretInfo | null>(null);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<ErrorData | null>(null);
  const heading = useRef<HTMLElement | null>(null);

  useEffect(() => {
    void call(api().app.info({})).then(setInfo, () => undefined);
    void call(api().secret.current({})).then(setSecret, () => undefined);
  }, []);

  const go = useCallback((s: Screen) => {
    setError(null);
    setScreen(s);
  }, []);

  // Move focus to the new screen so keyboard and screen-reader users start at its top.
  useEffect(() => {
    heading.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [screen]);

  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setError(null);
    try {
      return await action();
    } catch (e) {
      setError(isErrorData(e) ? e : { code: 'internal', message: 'Unexpected failure in the window. Nothing was written.' });
      return undefined;
    }
  }, []);

  const forget = () =>
    run(async () => {
      await call(api().secret.forget({}));
      setSecret(null);
      go('home');
    });

  const props: ScreenProps = { secret, setSecret, go, run };
  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">CLDCB Recovery</span>
        <span className={info?.online ? 'mode online' : 'mode offline'} title="Network access">
          {info?.online ? 'Online' : 'Offline'}
        </span>
        {secret ? (
          <span className="loaded" data-testid="loaded-node">
            Secret loaded · node {secret.nodeId.slice(0, 8)}…{secret.nodeId.slice(-6)}
            <button type="button" className="link" onClick={forget}>
              Forget secret
            </button>
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
      <main className="content" ref={heading}>
        <ErrorBanner error={error} onDismiss={() => setError(null)} />
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
        {screen === 'credentials' && <Credentials {...props} />}
      </main>
    </div>
  );
}
