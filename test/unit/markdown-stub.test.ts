import { describe, expect, it } from '@jest/globals';
import { ConnectorRegistry } from '../../src/registry/connector-registry.js';

/**
 * The web app and the Connect page build react-jsonschema-form with markdown-to-jsx replaced by a
 * plain-text stand-in (web/src/markdown-stub.tsx, about 31 KiB gzipped less for every overlay). That
 * is only honest while no connector's form asks for markdown: one that does would show its
 * description's asterisks and backticks as they are.
 */
const MARKDOWN_OPTIONS = [
  'ui:enableMarkdownInDescription',
  'ui:enableMarkdownInHelp',
  'enableMarkdownInDescription',
  'enableMarkdownInHelp',
];

function markdownOptionsIn(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    ...(MARKDOWN_OPTIONS.includes(key) && inner !== false ? [`${path}/${key}`] : []),
    ...markdownOptionsIn(inner, `${path}/${key}`),
  ]);
}

describe("connectors' forms and the markdown stand-in", () => {
  it('no built-in connector asks its form to render markdown', async () => {
    const registry = await ConnectorRegistry.load();
    const connectors = registry.list();
    expect(connectors.length).toBeGreaterThan(0);
    for (const connector of connectors)
      expect([connector.id, markdownOptionsIn(registry.form(connector.id).uiSchema)]).toEqual([connector.id, []]);
  });

  it('finds such an option where one is set', () => {
    expect(markdownOptionsIn({ apiKey: { 'ui:enableMarkdownInDescription': true } })).toEqual(['/apiKey/ui:enableMarkdownInDescription']);
    expect(markdownOptionsIn({ 'ui:globalOptions': { enableMarkdownInHelp: true } })).toEqual(['/ui:globalOptions/enableMarkdownInHelp']);
  });
});
