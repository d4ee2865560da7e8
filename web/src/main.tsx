import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { signInFromLink } from './api.js';
import { App } from './App.js';
import './styles.css';

// A link pasted into a tab already showing the app changes only the fragment, which loads nothing:
// load the page again (the fragment stays in the browser) so the code below takes it.
window.addEventListener('hashchange', () => {
  if (location.hash.startsWith('#login=')) location.reload();
});

// The login code (if the page was opened with the printed link) is swapped for a session first,
// so the app's first requests already carry it.
void signInFromLink().then(({ failed }) =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App loginFailed={failed} />
    </StrictMode>,
  ),
);
