import { useEffect, useState } from 'react';
import { api } from '../api.js';
import { ConnectorsScreen } from '../screens/ConnectorsScreen.js';
import type { ConnectorSummary } from '../types.js';

/**
 * A session of several connectors: the data source type first. Titles come from GET /connectors
 * (the session's connectors only); should that fail, the ids stand in, so the choice is still there.
 */
export function ConnectorChoice({ ids, onChoose, onCancel }: { ids: string[]; onChoose: (id: string) => void; onCancel: () => void }) {
  const [connectors, setConnectors] = useState<ConnectorSummary[] | undefined>();
  useEffect(() => {
    const fallback = () => ids.map((id) => ({ id, title: id, streams: [], operations: [], baseUrl: '' }) as ConnectorSummary);
    api<ConnectorSummary[]>('GET', '/connectors').then(
      (all) => {
        const shown = all.filter((c) => ids.includes(c.id));
        setConnectors(shown.length > 0 ? shown : fallback());
      },
      () => setConnectors(fallback()),
    );
  }, [ids]);
  return (
    <>
      <ConnectorsScreen connectors={connectors} onChoose={(connector) => onChoose(connector.id)} />
      <div className="step-buttons">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
