import { describe, expect, it } from '@jest/globals';
import { type AppearanceTarget, applyAppearance, textOn, validAppearance } from '../../web/src/appearance.js';

/** A stand-in for document.documentElement: what the page's styles would read. */
function fakeRoot(): AppearanceTarget & { properties: Record<string, string> } {
  const properties: Record<string, string> = {};
  const setProperty = (name: string, value: string) => {
    properties[name] = value;
  };
  return { dataset: {}, style: { setProperty }, properties };
}

describe("the host's appearance (it arrives by postMessage from another origin)", () => {
  it('applies a scheme and a #rrggbb accent, with the text colour that reads on it', () => {
    const root = fakeRoot();
    expect(applyAppearance({ colorScheme: 'dark', accent: '#AA3300' }, root)).toEqual({ colorScheme: 'dark', accent: '#aa3300' });
    expect(root.dataset.colorScheme).toBe('dark');
    expect(root.properties).toEqual({ '--cp-accent': '#aa3300', '--cp-focus': '#aa3300', '--cp-on-accent': '#ffffff' });
    // A light accent gets dark text: a host's yellow never makes a white-on-yellow Save button.
    applyAppearance({ accent: '#ffdd00' }, root);
    expect(root.properties['--cp-on-accent']).toBe('#000000');
    expect(textOn('#2f5bd3')).toBe('#ffffff');
  });

  it.each([
    ['a CSS expression', 'red; background: url(https://evil.example/x)'],
    ['a colour with more CSS after it', '#aabbcc; background: url(https://evil.example/x)'],
    ['a custom property', 'var(--cp-bad)'],
    ['a short hex', '#abc'],
    ['hex with alpha', '#aabbccdd'],
    ['a named colour', 'red'],
    ['a url', 'url(https://evil.example/x)'],
    ['a number', 0x2f5bd3],
    ['a trailing newline', '#2f5bd3\n'],
  ])('drops an accent that is not #rrggbb (%s) and keeps a valid scheme', (_, accent) => {
    const root = fakeRoot();
    expect(applyAppearance({ colorScheme: 'light', accent }, root)).toEqual({ colorScheme: 'light' });
    expect(root.properties).toEqual({});
    expect(root.dataset.colorScheme).toBe('light');
  });

  it('drops an unknown scheme, and anything that is not an object', () => {
    const root = fakeRoot();
    for (const colorScheme of ['Dark', 'auto', 'dark light', '', 1, null])
      expect(applyAppearance({ colorScheme, accent: '#123456' }, root)).toEqual({ accent: '#123456' });
    expect(root.dataset).toEqual({});
    for (const input of [undefined, null, 'dark', ['dark'], 42]) expect(validAppearance(input)).toEqual({});
    expect(validAppearance({ colorScheme: 'system' })).toEqual({ colorScheme: 'system' });
  });
});
