import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, holdBearerInMemory, onSignedOut, setBearer } from '../api.js';
import '../styles.css';
import './connect.css';
import { applyAppearance } from '../appearance.js';
import { ConnectApp, Unframed } from './ConnectApp.js';
import { exchangeToken } from './exchange.js';
import { FailureReport, failureOf } from './failure.js';
import { startHandshake } from './handshake.js';

// Before any request: the bearer lives in memory, and this page never touches sessionStorage.
holdBearerInMemory();

/** The server fills this meta with the session's allowed origins; the session's id is the page's path. */
const origins = (document.querySelector<HTMLMetaElement>('meta[name="credport-allowed-origins"]')?.content ?? '')
  .split(' ')
  .filter(Boolean);
const sessionId = /^\/connect\/(csn_[a-z0-9]{16,32})$/.exec(location.pathname)?.[1];
const framedOrOpened = window.parent !== window || window.opener !== null;
const root = createRoot(document.getElementById('root')!);

if (sessionId === undefined || origins.length === 0 || !framedOrOpened) root.render(<Unframed />);
else {
  const handshake = startHandshake({ sessionId, origins });
  const failures = new FailureReport(handshake.send);
  // Outside React, so it runs once: the token is exchanged once, and ready or error is sent once.
  const opening = handshake.token.then(async ({ sessionToken, appearance }) => {
    applyAppearance(appearance);
    try {
      const { bearer, session } = await exchangeToken(sessionToken);
      setBearer(bearer);
      handshake.send({ type: 'ready', payload: { sessionId, mode: session.mode } });
      return session;
    } catch (error) {
      failures.report(failureOf(error));
      throw error;
    }
  });
  // Later, a 401: the bearer expired or its session was revoked.
  onSignedOut((problem) => failures.report(failureOf(new ApiError(401, problem))));
  root.render(
    <StrictMode>
      <ConnectApp opening={opening} send={handshake.send} failures={failures} />
    </StrictMode>,
  );
}
