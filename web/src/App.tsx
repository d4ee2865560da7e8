import { useEffect, useState } from 'react';
import { api, ApiError, messageOf, onSignedOut, signOut } from './api.js';
import { AuthenticateScreen } from './screens/AuthenticateScreen.js';
import { ConnectorsScreen } from './screens/ConnectorsScreen.js';
import { SourceScreen } from './screens/SourceScreen.js';
import { SyncScreen } from './screens/SyncScreen.js';
import type { ConnectorSummary, CredentialTile, DemoProviders, SyncJob } from './types.js';

/** Where the user is. Held in memory only: nothing goes to the URL or to storage (only the session token, in sessionStorage). */
type Screen =
  | { name: 'connectors' }
  | { name: 'authenticate'; connector: ConnectorSummary }
  | { name: 'source'; connector: ConnectorSummary; credential: CredentialTile }
  | { name: 'sync'; connector: ConnectorSummary; credential: CredentialTile; job: SyncJob };

const STEPS = ['Choose a data source', 'Authenticate', 'Create the data source', 'Sync'] as const;
const STEP_OF: Record<Screen['name'], number> = { connectors: 0, authenticate: 1, source: 2, sync: 3 };

/** `loginFailed`: the page was opened with a login link that was used already or is not valid. */
export function App({ loginFailed = false }: { loginFailed?: boolean }) {
  const [screen, setScreen] = useState<Screen>({ name: 'connectors' });
  const [connectors, setConnectors] = useState<ConnectorSummary[] | undefined>();
  const [demo, setDemo] = useState<DemoProviders | undefined>();
  const [signedOut, setSignedOut] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => onSignedOut(() => setSignedOut(true)), []);
  useEffect(() => {
    api<ConnectorSummary[]>('GET', '/connectors').then(setConnectors, (caught: unknown) => setError(messageOf(caught)));
    // 404 unless `credport serve --demo`.
    api<{ providers: DemoProviders }>('GET', '/demo').then(
      (answer) => setDemo(answer.providers),
      (caught: unknown) => {
        if (!(caught instanceof ApiError)) setError(messageOf(caught));
      },
    );
  }, []);

  // Each step gets the focus on its heading, so a screen reader and the keyboard start there.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs again when the screen changes, for the new screen's heading
  useEffect(() => {
    document.querySelector<HTMLElement>('main h2')?.focus();
  }, [screen.name]);

  if (signedOut) {
    return (
      <main className="signed-out">
        <h1>credport</h1>
        <div role="alert">
          <h2 tabIndex={-1}>Not signed in</h2>
          {loginFailed ? <p>This login link was used already or is not valid: each link works once.</p> : null}
          <p>
            Open the link <code>credport serve</code> printed (it signs one browser in, once). Each time a link is used,{' '}
            <code>credport serve</code> prints a new one.
          </p>
        </div>
      </main>
    );
  }

  const current = STEP_OF[screen.name];
  return (
    <>
      <header className="app-header">
        <h1>credport</h1>
        {demo ? <span className="badge badge-demo">demo: emulators on loopback</span> : null}
        <nav aria-label="Steps">
          <ol className="steps">
            {STEPS.map((step, i) => (
              <li key={step} aria-current={i === current ? 'step' : undefined} className={i < current ? 'step-done' : undefined}>
                {step}
              </li>
            ))}
          </ol>
        </nav>
        <button type="button" className="sign-out" onClick={() => void signOut().catch(() => undefined)}>
          Sign out
        </button>
      </header>
      <main>
        <p className="form-error" role="alert">
          {error}
        </p>
        {screen.name === 'connectors' ? (
          <ConnectorsScreen connectors={connectors} onChoose={(connector) => setScreen({ name: 'authenticate', connector })} />
        ) : null}
        {screen.name === 'authenticate' ? (
          <AuthenticateScreen
            key={screen.connector.id}
            connector={screen.connector}
            demo={demo?.[screen.connector.id]}
            onBack={() => setScreen({ name: 'connectors' })}
            onContinue={(credential) => setScreen({ name: 'source', connector: screen.connector, credential })}
          />
        ) : null}
        {screen.name === 'source' ? (
          <SourceScreen
            connector={screen.connector}
            credential={screen.credential}
            onBack={() => setScreen({ name: 'authenticate', connector: screen.connector })}
            onStarted={(job) => setScreen({ name: 'sync', connector: screen.connector, credential: screen.credential, job })}
          />
        ) : null}
        {screen.name === 'sync' ? (
          <SyncScreen
            job={screen.job}
            credential={screen.credential}
            onDone={() => setScreen({ name: 'authenticate', connector: screen.connector })}
          />
        ) : null}
      </main>
    </>
  );
}
