import { useCallback, useEffect, useState } from 'react';
import type { ConnectEvent } from '../../../src/generated/connect-event.js';
import type { ConnectExchange } from '../../../src/generated/connect-exchange.js';
import type { CredentialTile } from '../types.js';
import { ConnectorChoice } from './ConnectorChoice.js';
import { CreateFlow } from './CreateFlow.js';
import type { Failure, FailureReport } from './failure.js';
import { PickScreen } from './PickScreen.js';
import { ReconnectFlow } from './ReconnectFlow.js';

export type Session = ConnectExchange['session'];
type Outcome = 'credential.created' | 'credential.selected' | 'credential.reconnected';

/**
 * The Connect page once the host handed it the token: waits for the exchange, then shows the
 * session's mode. Every end goes to the host as events: the tile and `close {completed}`, or
 * `close {cancelled}` (Cancel, Escape), or the error (sent by `failures`) and `close {error}`.
 */
export function ConnectApp({
  opening,
  send,
  failures,
}: {
  opening: Promise<Session>;
  send: (event: ConnectEvent) => void;
  failures: FailureReport;
}) {
  const [session, setSession] = useState<Session | undefined>();
  const [failure, setFailure] = useState<Failure | undefined>();
  const [connector, setConnector] = useState<string | undefined>();
  const [ended, setEnded] = useState<string | undefined>();

  useEffect(() => failures.subscribe(setFailure), [failures]);
  useEffect(() => {
    opening.then(
      (opened) => {
        setSession(opened);
        if (opened.connectors.length === 1) setConnector(opened.connectors[0]);
      },
      // Reported by main.tsx already; shown through `failures`.
      () => undefined,
    );
  }, [opening]);

  const finish = (type: Outcome, tile: CredentialTile) => {
    send({ type, payload: { tile } });
    send({ type: 'close', payload: { reason: 'completed' } });
    setEnded(type === 'credential.selected' ? `${tile.name} is selected.` : `${tile.name} is saved.`);
  };
  const cancel = () => {
    send({ type: 'close', payload: { reason: 'cancelled' } });
    setEnded('Cancelled.');
  };
  // Stable: the flows load their data again only when their own inputs change.
  const report = useCallback((error: Failure) => failures.report(error), [failures]);

  // Escape anywhere but in an open dialog (which closes itself first) cancels, as the SDK's modal does.
  useEffect(() => {
    if (ended !== undefined || failure !== undefined) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented && document.querySelector('dialog[open]') === null) cancel();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  });

  if (failure) return <ErrorScreen failure={failure} onClose={() => send({ type: 'close', payload: { reason: 'error' } })} />;
  if (ended !== undefined)
    return (
      <main className="connect">
        <p role="status">{ended}</p>
      </main>
    );
  if (!session)
    return (
      <main className="connect">
        <p role="status">Connecting...</p>
      </main>
    );
  const prefill = session.prefill;
  return (
    <main className="connect">
      {session.mode === 'reconnect' ? (
        <ReconnectFlow
          credentialId={session.credentialId ?? ''}
          onReconnected={(tile) => finish('credential.reconnected', tile)}
          onCancel={cancel}
          onFailure={report}
        />
      ) : connector === undefined ? (
        <ConnectorChoice ids={session.connectors} onChoose={setConnector} onCancel={cancel} />
      ) : session.mode === 'create' ? (
        <CreateFlow
          connector={connector}
          prefill={prefill}
          onCreated={(tile) => finish('credential.created', tile)}
          onCancel={cancel}
          onFailure={report}
        />
      ) : (
        <PickScreen
          connector={connector}
          prefill={prefill}
          onCreated={(tile) => finish('credential.created', tile)}
          onSelected={(tile) => finish('credential.selected', tile)}
          onCancel={cancel}
          onFailure={report}
        />
      )}
    </main>
  );
}

/** Refused or lost: the server's words, for the end user, with a way to close. */
function ErrorScreen({ failure, onClose }: { failure: Failure; onClose: () => void }) {
  return (
    <main className="connect">
      <div role="alert">
        <h2>Connect could not continue</h2>
        <p>{failure.detail}</p>
      </div>
      <div className="step-buttons">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </main>
  );
}

/** Opened by itself (not framed, no opener) or without its session: nothing to talk to. */
export function Unframed() {
  return (
    <main className="connect">
      <h2>Connect a credential</h2>
      <p>This page opens from inside an application, which starts its session. Go back to that application and open it from there.</p>
    </main>
  );
}
