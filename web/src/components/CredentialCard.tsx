import { useId } from 'react';
import type { CredentialTile } from '../types.js';
import { humanize, when } from './format.js';

export interface TileActions {
  onTest: () => void;
  onRotate: () => void;
  onRename: () => void;
  onDelete: () => void;
}

/**
 * One saved credential, as the provider last described it. Never a secret: the tile only has the
 * hint (its last four characters). With `select`, the tile is a radio of the picker.
 */
export function CredentialCard({
  tile,
  select,
  actions,
  message,
  busy,
}: {
  tile: CredentialTile;
  select?: { checked: boolean; onSelect: () => void };
  actions?: TileActions;
  message?: { text: string; error: boolean };
  busy?: boolean;
}) {
  const nameId = useId();
  const identity = Object.entries(tile.identity ?? {});
  return (
    <article
      className={`tile tile-${tile.status}${select?.checked ? ' tile-selected' : ''}`}
      aria-labelledby={nameId}
      aria-busy={busy || undefined}
    >
      <div className="tile-head">
        {select ? (
          <label className="tile-name">
            <input type="radio" name="credential" checked={select.checked} onChange={select.onSelect} />
            <span id={nameId}>{tile.name}</span>
          </label>
        ) : (
          <h3 className="tile-name" id={nameId}>
            {tile.name}
          </h3>
        )}
        <span className={`badge badge-${tile.status}`}>
          <span className="visually-hidden">status: </span>
          <span>{tile.status}</span>
        </span>
      </div>
      {tile.description ? <p className="tile-description">{tile.description}</p> : null}
      <dl className="tile-facts">
        {identity.map(([key, value]) => (
          <div key={key}>
            <dt>{humanize(key)}</dt>
            <dd>{String(value)}</dd>
          </div>
        ))}
        {tile.secretHint ? (
          <div>
            <dt>Secret</dt>
            <dd>...{tile.secretHint}</dd>
          </div>
        ) : null}
        {tile.baseUrl ? (
          <div>
            <dt>Base URL</dt>
            <dd>{tile.baseUrl}</dd>
          </div>
        ) : null}
        <div>
          <dt>Last verified</dt>
          <dd>{when(tile.verifiedAt)}</dd>
        </div>
        {tile.invalidAt ? (
          <div>
            <dt>Refused</dt>
            <dd>
              {when(tile.invalidAt)}: {tile.invalidReason ?? 'by the provider'}
            </dd>
          </div>
        ) : null}
      </dl>
      {actions ? (
        <div className="tile-actions">
          {/* aria-disabled, not disabled: a disabled button drops the focus to the page body. */}
          <button type="button" onClick={busy ? undefined : actions.onTest} aria-disabled={busy || undefined}>
            Test
          </button>
          <button type="button" onClick={actions.onRotate}>
            Rotate
          </button>
          <button type="button" onClick={actions.onRename}>
            Rename
          </button>
          <button type="button" onClick={actions.onDelete}>
            Delete
          </button>
        </div>
      ) : null}
      <p className={message?.error ? 'tile-message error' : 'tile-message'} role="status">
        {message?.text ?? ''}
      </p>
    </article>
  );
}
