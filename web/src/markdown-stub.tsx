import type { ReactNode } from 'react';

/**
 * Stands in for markdown-to-jsx (vite.config.js aliases `markdown-to-jsx/react` here): about 31 KiB
 * gzipped of the form renderer, which react-jsonschema-form uses only for descriptions and help
 * marked `ui:enableMarkdownInDescription` / `ui:enableMarkdownInHelp` (no connector's uiSchema asks
 * for it: test/unit/markdown-stub.test.ts) and for its own fallback messages, shown here as plain text.
 */
export function Markdown({ children }: { children?: ReactNode }): ReactNode {
  return children ?? null;
}
