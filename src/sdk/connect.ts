/**
 * credport Connect for the host's page: opens the Connect page (modal iframe, inline iframe or popup),
 * hands it the session's token once it asks, and passes its events to the host's `onEvent`.
 *
 * One file, importing types only: tsc emits it as a standalone ES module that is shipped as
 * `credport/connect` and served unchanged at `<serverUrl>/connect/sdk.js` (a runtime import of a
 * sibling file would not resolve there). It runs on the host's page, under the host's CSP: styles go
 * through the CSSOM (`element.style`), never a `style` attribute or a <style> element.
 */
import type { ConnectCloseEvent, ConnectEvent, ConnectReadyPayload, CredentialTile } from '../generated/connect-event.js';
import type { ConnectAppearance, ConnectTokenMessage, ConnectTokenPayload } from '../generated/connect-message.js';

export type {
  ConnectCloseEvent,
  ConnectCredentialCreatedEvent,
  ConnectCredentialReconnectedEvent,
  ConnectCredentialSelectedEvent,
  ConnectErrorEvent,
  ConnectEvent,
  ConnectReadyEvent,
  CredentialTile,
} from '../generated/connect-event.js';
export type { ConnectAppearance } from '../generated/connect-message.js';

export interface OpenConnectOptions {
  /** credport's origin (`https://credport.example.com`): the Connect page is loaded from it, and only its messages are heard. */
  serverUrl: string;
  /** The session's token (`ccs_…`) your back end minted: handed to the Connect page by postMessage, once, never in a URL. */
  sessionToken: string;
  /** Render the Connect page inside this element (no overlay, no focus trap) instead of a modal. */
  container?: HTMLElement;
  /** Open the Connect page in a popup window instead of a modal. Call openConnect from a click, or the browser blocks the popup. */
  popup?: boolean;
  /** How the Connect page looks: `colorScheme` light, dark or system, `accent` #rrggbb. */
  appearance?: ConnectAppearance;
  /** Every event of the session, last of all one `close`. */
  onEvent: (event: ConnectEvent) => void;
}

export interface ConnectHandle {
  /** Closes Connect (removes the iframe, or closes the popup) and emits `close {reason: "host"}`; later calls do nothing. */
  close(): void;
}

const TOKEN = /^ccs_([a-z0-9]{16,32})\.[A-Za-z0-9_-]{43}$/;
const ACCENT = /^#[0-9a-fA-F]{6}$/;
const COLOR_SCHEMES: readonly string[] = ['light', 'dark', 'system'];
const MODES: readonly string[] = ['pick', 'create', 'reconnect'];
const TILE_EVENTS: readonly string[] = ['credential.created', 'credential.selected', 'credential.reconnected'];
/** The reasons the page itself may close with; host and popup-closed are the SDK's own. */
const PAGE_CLOSE_REASONS: readonly string[] = ['completed', 'cancelled', 'error'];
/** How often the SDK looks whether the end user closed the popup (a browser sends no event for it). */
const POPUP_POLL_MS = 400;
const POPUP_WIDTH = 520;
const POPUP_HEIGHT = 720;
/** How long after its iframe loaded the Connect page may take to say hello (it says it as its script starts). */
const HELLO_GRACE_MS = 5000;
/**
 * The modal open now, if any: two would fight over the focus (each pulling it into its own dialog),
 * so a new one closes the previous one first (its onEvent gets close {reason: "host"}).
 */
let openModal: ConnectHandle | undefined;
/** Below this width the modal fills the screen. */
const NARROW = '(max-width: 599.98px)';

/** The session's id, from its token: `ccs_<tail>.<secret>` -> `csn_<tail>` (the secret part never leaves the token). */
export function sessionIdFromToken(sessionToken: string): string {
  const match = TOKEN.exec(sessionToken);
  if (!match) throw new TypeError('credport Connect: sessionToken is not a Connect session token (ccs_<id>.<secret>, from your back end)');
  return `csn_${match[1]}`;
}

interface Checked {
  serverOrigin: string;
  sessionId: string;
  sessionToken: string;
  container: HTMLElement | undefined;
  popup: boolean;
  appearance: ConnectAppearance | undefined;
  onEvent: (event: ConnectEvent) => void;
}

const refuse = (option: string, why: string) => new TypeError(`credport Connect: ${option} ${why}`);

/**
 * credport's origin: https, or http on loopback only (a page fetched over plain HTTP elsewhere can be
 * rewritten on the way, and it is the page that receives the token). An origin only: the SDK opens
 * `/connect/<id>` on it and hears messages from exactly that origin.
 */
function checkServerUrl(value: unknown): string {
  if (typeof value !== 'string') throw refuse('serverUrl', 'must be a string, such as https://credport.example.com');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse('serverUrl', 'is not a URL: write credport’s origin, such as https://credport.example.com');
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw refuse('serverUrl', 'must be https://, or http:// on loopback (localhost, 127.0.0.1, [::1])');
  if (url.username || url.password) throw refuse('serverUrl', 'must not carry user info');
  if (url.pathname !== '/' || url.search || url.hash || value.endsWith('?') || value.endsWith('#'))
    throw refuse('serverUrl', `must be an origin only, without a path, query or fragment (${url.origin})`);
  return url.origin;
}

function checkAppearance(value: unknown): ConnectAppearance | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse('appearance', 'must be an object');
  const { colorScheme, accent, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw refuse(`appearance.${unknown[0]}`, 'is not an appearance option (colorScheme, accent)');
  if (colorScheme !== undefined && !COLOR_SCHEMES.includes(colorScheme as string))
    throw refuse('appearance.colorScheme', 'must be light, dark or system');
  if (accent !== undefined && !(typeof accent === 'string' && ACCENT.test(accent))) throw refuse('appearance.accent', 'must be #rrggbb');
  // A fresh plain object: what is posted is exactly this, whatever the host's object holds besides.
  const checked: ConnectAppearance = {};
  if (colorScheme !== undefined) checked.colorScheme = colorScheme as NonNullable<ConnectAppearance['colorScheme']>;
  if (accent !== undefined) checked.accent = accent as string;
  return checked;
}

/** Every option checked before anything is opened; a TypeError names the option (never the token's text). */
export function checkConnectOptions(options: unknown): Checked {
  if (typeof options !== 'object' || options === null) throw refuse('options', 'must be an object: {serverUrl, sessionToken, onEvent}');
  const { serverUrl, sessionToken, container, popup, appearance, onEvent } = options as Record<string, unknown>;
  const serverOrigin = checkServerUrl(serverUrl);
  if (typeof sessionToken !== 'string') throw refuse('sessionToken', 'must be a string (ccs_…, from your back end)');
  const sessionId = sessionIdFromToken(sessionToken);
  if (container !== undefined && !(typeof container === 'object' && container !== null && (container as Node).nodeType === 1))
    throw refuse('container', 'must be an element');
  if (popup !== undefined && typeof popup !== 'boolean') throw refuse('popup', 'must be true or false');
  if (popup && container !== undefined) throw refuse('container', 'cannot be given with popup: true (choose one)');
  if (typeof onEvent !== 'function') throw refuse('onEvent', 'must be a function');
  return {
    serverOrigin,
    sessionId,
    sessionToken,
    container: container as HTMLElement | undefined,
    popup: popup === true,
    appearance: checkAppearance(appearance),
    onEvent: onEvent as (event: ConnectEvent) => void,
  };
}

/** What the page said, once its envelope and payload have the shape the contract gives them. */
type Heard = { type: 'hello'; sessionId: string } | { type: 'event'; event: ConnectEvent };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a message from the Connect page, or undefined for anything else: another envelope, version
 * or type, a payload of the wrong shape. The caller has checked its window and origin already.
 */
export function readPageMessage(data: unknown): Heard | undefined {
  if (!isObject(data) || data.source !== 'credport' || data.version !== 1 || !isObject(data.payload)) return undefined;
  const { type, payload } = data;
  if (type === 'hello') return typeof payload.sessionId === 'string' ? { type, sessionId: payload.sessionId } : undefined;
  if (type === 'ready') {
    const { sessionId, mode } = payload;
    if (typeof sessionId !== 'string' || !MODES.includes(mode as string)) return undefined;
    return { type: 'event', event: { type, payload: { sessionId, mode: mode as ConnectReadyPayload['mode'] } } };
  }
  if (typeof type === 'string' && TILE_EVENTS.includes(type)) {
    const tile = payload.tile;
    if (!isObject(tile) || typeof tile.id !== 'string') return undefined;
    const event = { type, payload: { tile: tile as unknown as CredentialTile } } as ConnectEvent;
    return { type: 'event', event };
  }
  if (type === 'error') {
    const { code, status, detail } = payload;
    if (typeof code !== 'string' || !Number.isInteger(status) || typeof detail !== 'string') return undefined;
    return { type: 'event', event: { type, payload: { code, status: status as number, detail } } };
  }
  if (type === 'close') {
    if (!PAGE_CLOSE_REASONS.includes(payload.reason as string)) return undefined;
    return { type: 'event', event: { type, payload: { reason: payload.reason as ConnectCloseEvent['payload']['reason'] } } };
  }
  return undefined;
}

/** Where the Connect page runs: the window its messages come from, and how to take it away. */
interface View {
  window(): Window | null;
  remove(): void;
  /** The iframe, when it is one (its load event is all a host can see of a cross-origin page). */
  frame?: HTMLIFrameElement;
}

type Styles = Record<string, string>;
function style(element: HTMLElement, styles: Styles): void {
  for (const [name, value] of Object.entries(styles)) element.style.setProperty(name, value);
}

function frameFor(url: string): HTMLIFrameElement {
  const frame = document.createElement('iframe');
  frame.src = url;
  frame.title = 'credport Connect: add or choose a credential';
  style(frame, { display: 'block', border: '0', width: '100%', height: '100%', 'background-color': 'transparent' });
  return frame;
}

function inlineView(container: HTMLElement, url: string): View {
  const frame = frameFor(url);
  // An empty container has no height of its own: the page still needs room for its form.
  style(frame, { 'min-height': '560px' });
  container.appendChild(frame);
  return { window: () => frame.contentWindow, remove: () => frame.remove(), frame };
}

/**
 * A modal over the host's page: role=dialog, focus moved into the iframe, Tab kept inside (two
 * focusable sentinels around the dialog send focus back round), Escape on the host's document
 * closes it, and on removal focus returns to the element that had it when Connect opened.
 */
function modalView(url: string, onCancel: () => void): View {
  const returnFocusTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const root = document.documentElement;
  const overflow = root.style.getPropertyValue('overflow');

  const overlay = document.createElement('div');
  style(overlay, {
    position: 'fixed',
    inset: '0',
    'z-index': '2147483000',
    display: 'flex',
    'align-items': 'center',
    'justify-content': 'center',
    'background-color': 'rgba(15, 23, 42, 0.55)',
  });
  const dialog = document.createElement('div');
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-modal', 'true');
  dialog.setAttribute('aria-label', 'credport Connect');
  style(dialog, {
    display: 'flex',
    'flex-direction': 'column',
    overflow: 'hidden',
    'background-color': '#ffffff',
    'box-shadow': '0 20px 50px rgba(0, 0, 0, 0.35)',
  });
  const bar = document.createElement('div');
  style(bar, { display: 'flex', 'justify-content': 'flex-end', padding: '4px', 'background-color': '#f1f5f9' });
  // A way out that does not depend on the page loading (a server that is down, a blocked frame).
  const closeButton = document.createElement('button');
  closeButton.type = 'button';
  closeButton.textContent = 'Close';
  style(closeButton, {
    font: '14px/1.2 system-ui, sans-serif',
    padding: '6px 12px',
    border: '1px solid #64748b',
    'border-radius': '6px',
    'background-color': '#ffffff',
    color: '#0f172a',
    cursor: 'pointer',
  });
  closeButton.addEventListener('click', onCancel);
  bar.appendChild(closeButton);
  const frame = frameFor(url);
  style(frame, { flex: '1 1 auto', 'min-height': '0' });
  dialog.append(bar, frame);

  const sentinel = () => {
    const element = document.createElement('span');
    element.tabIndex = 0;
    style(element, { position: 'absolute', width: '1px', height: '1px', overflow: 'hidden', opacity: '0' });
    return element;
  };
  const first = sentinel();
  const last = sentinel();
  // Shift+Tab before the first control lands on `first`: go to the last (the iframe); Tab after the
  // iframe's last control lands on `last`: go to the first (Close).
  first.addEventListener('focus', () => frame.focus());
  // Focusing the iframe element before its page has loaded leaves the page itself without focus
  // (Tab would skip past it): once loaded, focus its window, if the iframe still has the focus.
  frame.addEventListener('load', () => {
    if (document.activeElement === frame) frame.contentWindow?.focus();
  });
  last.addEventListener('focus', () => closeButton.focus());
  overlay.append(first, dialog, last);

  const narrow = window.matchMedia(NARROW);
  const size = () =>
    style(
      dialog,
      narrow.matches
        ? { width: '100%', height: '100%', 'border-radius': '0' }
        : { width: 'min(560px, calc(100% - 48px))', height: 'min(760px, calc(100% - 48px))', 'border-radius': '12px' },
    );
  size();
  narrow.addEventListener('change', size);

  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onCancel();
    }
  };
  // Focus that escapes anyway (a click on the host's page around it, a script) is brought back.
  const onFocusIn = (event: FocusEvent) => {
    if (!(event.target instanceof Node) || !overlay.contains(event.target)) closeButton.focus();
  };
  document.addEventListener('keydown', onKey, true);
  document.addEventListener('focusin', onFocusIn, true);
  document.body.appendChild(overlay);
  root.style.setProperty('overflow', 'hidden');
  frame.focus();

  return {
    frame,
    window: () => frame.contentWindow,
    remove: () => {
      document.removeEventListener('keydown', onKey, true);
      document.removeEventListener('focusin', onFocusIn, true);
      narrow.removeEventListener('change', size);
      overlay.remove();
      if (overflow) root.style.setProperty('overflow', overflow);
      else root.style.removeProperty('overflow');
      if (returnFocusTo?.isConnected) returnFocusTo.focus();
    },
  };
}

/**
 * A popup (its page talks to window.opener, so no `noopener`). A browser tells the opener nothing
 * when the end user closes it, so its `closed` is polled.
 */
function popupView(url: string, sessionId: string, onClosedByUser: () => void): View | undefined {
  const left = Math.max(0, Math.round(window.screenX + (window.outerWidth - POPUP_WIDTH) / 2));
  const top = Math.max(0, Math.round(window.screenY + (window.outerHeight - POPUP_HEIGHT) / 2));
  const popup = window.open(
    url,
    `credport-connect-${sessionId}`,
    `popup,width=${POPUP_WIDTH},height=${POPUP_HEIGHT},left=${left},top=${top}`,
  );
  if (!popup) return undefined;
  const timer = window.setInterval(() => {
    if (popup.closed) onClosedByUser();
  }, POPUP_POLL_MS);
  return {
    window: () => popup,
    remove: () => {
      window.clearInterval(timer);
      if (!popup.closed) popup.close();
    },
  };
}

/** A host handler that throws must not stop the SDK (tearing down, forgetting the token); the error still reaches the console. */
function emitTo(onEvent: (event: ConnectEvent) => void): (event: ConnectEvent) => void {
  return (event) => {
    try {
      onEvent(event);
    } catch (error) {
      setTimeout(() => {
        throw error;
      });
    }
  };
}

/**
 * Opens credport Connect for one session. The page asks for the token with `hello`; the SDK answers
 * the first hello only, with `token` posted to exactly credport's origin, and then hands the page's
 * events to `onEvent`. It hears only messages whose window is its own iframe (or popup) AND whose
 * origin is exactly credport's AND whose envelope is `{source: "credport", version: 1}`.
 */
export function openConnect(options: OpenConnectOptions): ConnectHandle {
  const checked = checkConnectOptions(options);
  const { serverOrigin, sessionId, appearance } = checked;
  const emit = emitTo(checked.onEvent);
  const url = `${serverOrigin}/connect/${sessionId}`;
  // Held only until it is handed over: after that the SDK has nothing to hand again.
  let sessionToken: string | undefined = checked.sessionToken;
  let tokenSent = false;
  let done = false;
  let view: View | undefined;
  let helloTimer: number | undefined;

  const handle: ConnectHandle = { close: () => finish('host') };
  const finish = (reason: ConnectCloseEvent['payload']['reason']) => {
    if (done) return;
    done = true;
    sessionToken = undefined;
    window.removeEventListener('message', onMessage);
    window.clearTimeout(helloTimer);
    view?.remove();
    if (openModal === handle) openModal = undefined;
    emit({ type: 'close', payload: { reason } });
  };
  const fail = (code: string, detail: string) => {
    if (done) return;
    emit({ type: 'error', payload: { code, status: 0, detail } });
    finish('error');
  };

  const onMessage = (event: MessageEvent) => {
    const from = view?.window();
    if (done || !from || event.source !== from || event.origin !== serverOrigin) return;
    const heard = readPageMessage(event.data);
    if (!heard) return;
    if (heard.type === 'hello') {
      if (heard.sessionId !== sessionId) return;
      if (tokenSent) {
        // The page loaded again (a reload, a navigation back): the token was handed once and is
        // single-use, so there is nothing to give it; say so rather than leave a page waiting.
        fail('connect_repeated_hello', 'The Connect page loaded again and asked for the token a second time; open a new session.');
        return;
      }
      const payload: ConnectTokenPayload = appearance ? { sessionToken: sessionToken!, appearance } : { sessionToken: sessionToken! };
      const message: ConnectTokenMessage = { source: 'credport', version: 1, type: 'token', payload };
      tokenSent = true;
      sessionToken = undefined;
      from.postMessage(message, serverOrigin);
      return;
    }
    // Before the page has its token it has nothing to report: anything else then is not the page's.
    if (!tokenSent) return;
    if (heard.event.type === 'close') finish(heard.event.payload.reason);
    else emit(heard.event);
  };

  window.addEventListener('message', onMessage);
  if (checked.popup) {
    view = popupView(url, sessionId, () => finish('popup-closed'));
    if (!view) queueMicrotask(() => fail('popup_blocked', 'The browser blocked the Connect popup: call openConnect from a click handler.'));
  } else if (checked.container) view = inlineView(checked.container, url);
  else {
    openModal?.close();
    openModal = handle;
    view = modalView(url, () => finish('cancelled'));
  }
  // A frame that loaded a page which never says hello holds no working Connect page: this page's
  // origin is not among the session's allowedOrigins (frame-ancestors blocked it), the session is
  // unknown, or serverUrl is not credport. Say so rather than leave the end user before an error page.
  view?.frame?.addEventListener('load', () => {
    if (tokenSent || done || helloTimer !== undefined) return;
    helloTimer = window.setTimeout(() => {
      if (!tokenSent)
        fail(
          'connect_page_unavailable',
          `The Connect page did not start: check serverUrl, the session, and that ${window.location.origin} is one of the session's allowedOrigins.`,
        );
    }, HELLO_GRACE_MS);
  });

  return handle;
}
