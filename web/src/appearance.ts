/**
 * The host's appearance for the Connect page: a colour scheme and an accent colour, applied through
 * CSSOM on <html> (a data attribute and a custom property). CSSOM is not a style attribute in
 * markup, so the page's CSP (style-src 'self') stays as it is. Whatever the host sends is checked
 * here first: it comes by postMessage from another origin, and only a #rrggbb accent and one of the
 * three schemes ever reach the page's styles.
 */
export type ColorScheme = 'light' | 'dark' | 'system';

export interface Appearance {
  colorScheme?: ColorScheme;
  /** #rrggbb: buttons, focus rings, the selected tile's ring. Text keeps the scheme's own colours. */
  accent?: string;
}

/** What applyAppearance writes to: document.documentElement, or a stand-in in a unit test. */
export interface AppearanceTarget {
  dataset: Record<string, string | undefined>;
  style: { setProperty(name: string, value: string): void };
}

/** The page's <html>. Reached through globalThis: this module is also compiled (and unit-tested) without the DOM types. */
const documentElement = (): AppearanceTarget =>
  (globalThis as unknown as { document: { documentElement: AppearanceTarget } }).document.documentElement;

const SCHEMES: readonly string[] = ['light', 'dark', 'system'];
const HEX_COLOR = /^#[0-9a-f]{6}$/i;

/** The parts of `input` that are valid, the rest dropped: a bad accent never blocks a good scheme. */
export function validAppearance(input: unknown): Appearance {
  if (typeof input !== 'object' || input === null) return {};
  const { colorScheme, accent } = input as Record<string, unknown>;
  const valid: Appearance = {};
  if (typeof colorScheme === 'string' && SCHEMES.includes(colorScheme)) valid.colorScheme = colorScheme as ColorScheme;
  if (typeof accent === 'string' && HEX_COLOR.test(accent)) valid.accent = accent.toLowerCase();
  return valid;
}

/**
 * Applies the valid parts of `input` and answers what was applied. An accent comes with the text
 * colour that reads best on it (black or white, whichever contrasts more), so a host's light accent
 * still gives readable buttons.
 */
export function applyAppearance(input: unknown, target: AppearanceTarget = documentElement()): Appearance {
  const appearance = validAppearance(input);
  if (appearance.colorScheme) target.dataset.colorScheme = appearance.colorScheme;
  if (appearance.accent) {
    target.style.setProperty('--cp-accent', appearance.accent);
    target.style.setProperty('--cp-focus', appearance.accent);
    target.style.setProperty('--cp-on-accent', textOn(appearance.accent));
  }
  return appearance;
}

/** #000000 or #ffffff, whichever has the higher WCAG contrast ratio against `hex`. */
export function textOn(hex: string): string {
  const l = luminance(hex);
  return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}

/** WCAG 2 relative luminance of a #rrggbb colour. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
