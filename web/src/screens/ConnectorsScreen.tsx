import type { ConnectorSummary } from '../types.js';

/** Step 1: the connectors credport knows, with their titles and documentation links. */
export function ConnectorsScreen({
  connectors,
  onChoose,
}: {
  connectors: ConnectorSummary[] | undefined;
  onChoose: (connector: ConnectorSummary) => void;
}) {
  return (
    <section aria-labelledby="connectors-title">
      <h2 id="connectors-title" tabIndex={-1}>
        Choose a data source
      </h2>
      <p>Pick the provider to read from. Its credentials are verified with the provider, then encrypted at rest.</p>
      {connectors === undefined ? (
        <p role="status">Loading the connectors...</p>
      ) : (
        <ul className="connector-list">
          {connectors.map((connector) => (
            <li key={connector.id} className="connector-card">
              <button
                type="button"
                className="connector-choose"
                onClick={() => onChoose(connector)}
                aria-describedby={`connector-${connector.id}-about`}
              >
                {connector.title}
              </button>
              <p id={`connector-${connector.id}-about`}>{connector.description ?? `${connector.streams.length} streams`}</p>
              {connector.docs ? (
                <a href={connector.docs} target="_blank" rel="noopener noreferrer">
                  {connector.title} documentation
                </a>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
