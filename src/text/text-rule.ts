/**
 * The one rule for text a caller gives that is stored and later shown (names, paths, stream keys,
 * descriptions): printable characters only. schemas/text.schema.json carries the same patterns and
 * messages (a unit test holds them equal), so the HTTP schemas, the web form, the services and the
 * CLI's output all refuse or take out the same characters.
 *
 * Refused everywhere, besides the C0 controls:
 * - DEL and the C1 controls (U+0080-U+009F): a terminal acts on them (U+009B is CSI, like ESC [).
 * - U+2028/U+2029: line breaks by another name.
 * - Bidi marks, overrides and isolates (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)
 *   and the deprecated format controls beside them (U+206A-U+206F): they reorder what a reader sees.
 * - Invisible characters (U+00AD soft hyphen, U+180E, U+200B-U+200D zero-width space and joiners,
 *   U+2060-U+2064 word joiner and invisible operators, U+FEFF, U+FFF9-U+FFFB annotation marks,
 *   and the Hangul fillers U+115F, U+1160, U+3164, U+FFA0 that render as nothing): they make two
 *   names that look the same, a look-alike tile.
 * Ordinary text (accents, CJK, emoji) passes; emoji joined by U+200D (a family) does not.
 */
const HIDDEN =
  '\\u007F-\\u009F\\u00AD\\u061C\\u115F\\u1160\\u180E\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\u3164\\uFEFF\\uFFA0\\uFFF9-\\uFFFB';

/** Every C0 control: one line holds no tab or line break. */
const C0 = '\\u0000-\\u001F';
/** C0 less tab and line feed, the two a multi-line text (a description) may hold; CR stays refused. */
const C0_BUT_TAB_AND_LF = '\\u0000-\\u0008\\u000B-\\u001F';

export type TextKind = 'singleLine' | 'multiLine';

/** JSON Schema patterns, character for character those of schemas/text.schema.json. */
export const TEXT_PATTERNS: Readonly<Record<TextKind, string>> = {
  singleLine: `^[^${C0}${HIDDEN}]*$`,
  multiLine: `^[^${C0_BUT_TAB_AND_LF}${HIDDEN}]*$`,
};

/** What the schemas' `x-pattern-message` says, and so what the services say. */
export const TEXT_MESSAGES: Readonly<Record<TextKind, string>> = {
  singleLine:
    'must not contain control characters, line breaks or text-direction overrides, nor invisible characters such as zero-width spaces',
  multiLine:
    'must not contain control characters or text-direction overrides, nor invisible characters such as zero-width spaces (line ' +
    'breaks and tabs are fine)',
};

const REFUSED: Readonly<Record<TextKind, RegExp>> = {
  singleLine: new RegExp(`[${C0}${HIDDEN}]`, 'u'),
  multiLine: new RegExp(`[${C0_BUT_TAB_AND_LF}${HIDDEN}]`, 'u'),
};

/** Runs of every character the rule refuses in one line, for taking them out of text to print. */
export const UNPRINTABLE_RUNS = new RegExp(`[${C0}${HIDDEN}]+`, 'gu');

/** Each refused character JSON.stringify leaves raw (it escapes C0 itself), for escaping JSON meant for a terminal. */
export const HIDDEN_CHAR = new RegExp(`[${HIDDEN}]`, 'gu');

/** The first character of `text` the rule refuses, as "U+001B", or undefined when there is none. */
export function firstRefused(text: string, kind: TextKind = 'singleLine'): string | undefined {
  const found = REFUSED[kind].exec(text);
  return found ? `U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
}
