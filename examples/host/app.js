// The host page: asks its own back end for a connect session, opens credport Connect with the SDK,
// and turns the events into data sources. It holds a session's token only for the moment it hands
// it to openConnect; the API token and any credential's secret never reach this page.
const credportOrigin = document.querySelector('meta[name="credport-origin"]').content;
const status = document.getElementById('status');
const log = document.getElementById('log');
const sourcesList = document.getElementById('sources');
const reconnectButton = document.querySelector('button[data-mode="reconnect"]');
const syncButton = document.getElementById('sync');

let connect;

/** The data source the Reconnect and Sync now buttons act on: the one chosen in the list. */
function current() {
  const chosen = sourcesList.querySelector('input[name="source"]:checked');
  return chosen ? { id: chosen.value, credentialId: chosen.dataset.credentialId } : undefined;
}

function say(text) {
  status.textContent = text;
}

function logEvent(text) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  log.append(item);
}

/** One line per event, for a person: a tile by its name, id and status (a tile never holds a secret). */
function describe(event) {
  const tile = event.payload?.tile;
  if (tile) return `${event.type}: “${tile.name}” ${tile.id} (${tile.status})`;
  return `${event.type}: ${JSON.stringify(event.payload ?? {})}`;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.detail ?? `${response.status}`);
  return answer;
}

/** A data source in the list, chosen (the newest is). */
function showSource(source) {
  const item = document.createElement('li');
  const label = document.createElement('label');
  const radio = document.createElement('input');
  radio.type = 'radio';
  radio.name = 'source';
  radio.value = source.id;
  radio.dataset.credentialId = source.credentialId;
  radio.checked = true;
  label.append(radio, ` ${source.name}: source ${source.id}, credential ${source.credentialId}`);
  item.append(label);
  sourcesList.append(item);
  reconnectButton.disabled = false;
  syncButton.disabled = false;
}

async function onEvent(event, sessionId) {
  logEvent(describe(event));
  if (event.type === 'credential.created' || event.type === 'credential.selected') {
    const source = await api('POST', '/api/sources', { credentialId: event.payload.tile.id });
    showSource(source);
    say(`Data source ${source.id} created with ${source.name}.`);
  } else if (event.type === 'credential.reconnected') {
    say(`${event.payload.tile.name} works again: same credential ${event.payload.tile.id}, its sources keep it.`);
  } else if (event.type === 'error') {
    say(`Connect stopped: ${event.payload.detail}`);
  } else if (event.type === 'close') {
    connect = undefined;
    // What credport recorded, read by this host's back end: the page's events are not the last word.
    if (sessionId.value) {
      const session = await api('GET', `/api/connect-session/${sessionId.value}`);
      logEvent(`session ${session.id} is ${session.state}`);
    }
  }
}

async function open(mode) {
  if (connect) connect.close();
  const presentation = document.querySelector('input[name="presentation"]:checked').value;
  const { openConnect } = await sdk;
  const body = mode === 'reconnect' ? { mode, credentialId: current().credentialId } : { mode };
  const { token } = await api('POST', '/api/connect-session', body);
  const sessionId = { value: undefined };
  connect = openConnect({
    serverUrl: credportOrigin,
    sessionToken: token,
    ...(presentation === 'inline' ? { container: document.getElementById('connect-inline') } : {}),
    ...(presentation === 'popup' ? { popup: true } : {}),
    appearance: { colorScheme: 'light', accent: '#2f5d8a' },
    onEvent: (event) => {
      if (event.type === 'ready') sessionId.value = event.payload.sessionId;
      onEvent(event, sessionId).catch((error) => say(`The host could not handle ${event.type}: ${error.message}`));
    },
  });
}

// The SDK is credport's own file, from credport's origin (this page's CSP names it in script-src).
const sdk = import(`${credportOrigin}/connect/sdk.js`);
sdk.then(
  () => say('Ready: choose how Connect opens, then a button.'),
  () => say(`credport Connect could not be loaded from ${credportOrigin}.`),
);

for (const button of document.querySelectorAll('button[data-mode]')) {
  button.addEventListener('click', () => {
    open(button.dataset.mode).catch((error) => say(`Connect could not open: ${error.message}`));
  });
}

syncButton.addEventListener('click', async () => {
  const source = current();
  say(`Syncing ${source.id}…`);
  try {
    const sync = await api('POST', `/api/sources/${source.id}/sync`, {});
    say(`Sync of ${sync.source} ${sync.status}: ${sync.records} records${sync.error ? ` (${sync.error})` : ''}.`);
  } catch (error) {
    say(`The sync could not start: ${error.message}`);
  }
});

for (const source of await api('GET', '/api/sources')) showSource(source);
