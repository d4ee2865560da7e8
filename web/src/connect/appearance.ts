import type { ConnectAppearance } from '../../../src/generated/connect-message.js';

const SCHEMES = new Set(['light', 'dark', 'system']);
const ACCENT = /^#[0-9a-fA-F]{6}$/;

/**
 * The host's appearance, through a data attribute and a CSS custom property on the root element:
 * the CSSOM, not a style attribute in markup, so the page's CSP (style-src 'self') stays as it is.
 * Anything else than the documented values is ignored (an accent is `#rrggbb`, nothing a
 * stylesheet would read as more than a colour).
 */
export function applyAppearance(appearance: ConnectAppearance | undefined, root: HTMLElement = document.documentElement): void {
  const scheme = appearance?.colorScheme;
  if (typeof scheme === 'string' && SCHEMES.has(scheme)) root.dataset.colorScheme = scheme;
  const accent = appearance?.accent;
  if (typeof accent === 'string' && ACCENT.test(accent)) root.style.setProperty('--accent', accent);
}
