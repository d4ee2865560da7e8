import { useCallback, useEffect, useRef, useState } from 'react';
import { api, messageOf } from '../api.js';
import { AddCredentialDialog } from '../components/AddCredentialDialog.js';
import { CredentialCard } from '../components/CredentialCard.js';
import { DeleteDialog, RenameDialog, RotateDialog } from '../components/TileDialogs.js';
import type { ConnectorForm, ConnectorSummary, CredentialTile, DemoProvider } from '../types.js';

type Open = { kind: 'add' } | { kind: 'rotate' | 'rename' | 'delete'; tile: CredentialTile } | undefined;
type Message = { text: string; error: boolean };

/** Step 2: one tile per saved credential of the connector, an Add Credential tile, and the tiles' actions. */
export function AuthenticateScreen({
  connector,
  demo,
  onContinue,
  onBack,
}: {
  connector: ConnectorSummary;
  demo: DemoProvider | undefined;
  onContinue: (tile: CredentialTile) => void;
  onBack: () => void;
}) {
  const [tiles, setTiles] = useState<CredentialTile[] | undefined>();
  const [form, setForm] = useState<ConnectorForm | undefined>();
  const [selected, setSelected] = useState<string | undefined>();
  const [open, setOpen] = useState<Open>();
  const [messages, setMessages] = useState<Record<string, Message>>({});
  const [testing, setTesting] = useState<string | undefined>();
  const [error, setError] = useState('');
  // After a delete, the tile that took the deleted one's place (or the Add Credential tile) gets the
  // focus: the Delete button and its tile are gone, and the focus would fall to the page body.
  const [focusAfterDelete, setFocusAfterDelete] = useState<{ tileId?: string } | undefined>();
  const list = useRef<HTMLUListElement>(null);
  const addButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!focusAfterDelete) return;
    const { tileId } = focusAfterDelete;
    const next = tileId
      ? list.current?.querySelector<HTMLElement>(
          `[data-tile-id="${CSS.escape(tileId)}"] input, [data-tile-id="${CSS.escape(tileId)}"] button`,
        )
      : null;
    (next ?? addButton.current)?.focus();
    setFocusAfterDelete(undefined);
  }, [focusAfterDelete]);

  const reload = useCallback(async () => {
    try {
      setTiles(await api<CredentialTile[]>('GET', `/credentials?connector=${encodeURIComponent(connector.id)}`));
    } catch (caught) {
      setError(messageOf(caught));
    }
  }, [connector.id]);

  useEffect(() => {
    void reload();
    api<ConnectorForm>('GET', `/connectors/${encodeURIComponent(connector.id)}/form`).then(setForm, (caught: unknown) =>
      setError(messageOf(caught)),
    );
  }, [connector.id, reload]);

  const say = (id: string, message: Message) => setMessages((all) => ({ ...all, [id]: message }));
  const replace = (tile: CredentialTile) => setTiles((all) => all?.map((t) => (t.id === tile.id ? tile : t)));

  const test = async (tile: CredentialTile) => {
    setTesting(tile.id);
    try {
      replace(await api<CredentialTile>('POST', `/credentials/${encodeURIComponent(tile.id)}/test`));
      say(tile.id, { text: `${connector.title} accepted it.`, error: false });
    } catch (caught) {
      say(tile.id, { text: messageOf(caught), error: true });
      // A refusal marks the tile invalid on the server: show it as it now is.
      await reload();
    } finally {
      setTesting(undefined);
    }
  };

  const chosen = tiles?.find((t) => t.id === selected);
  return (
    <section aria-labelledby="authenticate-title">
      <h2 id="authenticate-title" tabIndex={-1}>
        Authenticate
      </h2>
      <p>
        Choose the {connector.title} credential to use, or add one.{' '}
        {connector.docs ? (
          <a href={connector.docs} target="_blank" rel="noopener noreferrer">
            {connector.title} documentation
          </a>
        ) : null}
      </p>
      <p className="form-error" role="alert">
        {error}
      </p>
      {tiles === undefined ? (
        <p role="status">Loading the credentials...</p>
      ) : (
        <ul className="tiles" aria-label={`${connector.title} credentials`} ref={list}>
          {tiles.map((tile) => (
            <li key={tile.id} data-tile-id={tile.id}>
              <CredentialCard
                tile={tile}
                select={{ checked: selected === tile.id, onSelect: () => setSelected(tile.id) }}
                busy={testing === tile.id}
                message={messages[tile.id]}
                actions={{
                  onTest: () => void test(tile),
                  onRotate: () => setOpen({ kind: 'rotate', tile }),
                  onRename: () => setOpen({ kind: 'rename', tile }),
                  onDelete: () => setOpen({ kind: 'delete', tile }),
                }}
              />
            </li>
          ))}
          <li>
            <button type="button" className="tile add-tile" ref={addButton} onClick={() => setOpen({ kind: 'add' })} disabled={!form}>
              <span aria-hidden="true">+</span> Add Credential
            </button>
          </li>
        </ul>
      )}
      <div className="step-buttons">
        <button type="button" onClick={onBack}>
          Back
        </button>
        <button type="button" className="primary" disabled={!chosen} onClick={() => chosen && onContinue(chosen)}>
          Continue
        </button>
      </div>

      {open?.kind === 'add' && form ? (
        <AddCredentialDialog
          form={form}
          demo={demo}
          onClose={() => setOpen(undefined)}
          onSaved={(tile) => {
            setTiles((all) => [...(all ?? []), tile]);
            setSelected(tile.id);
            setOpen(undefined);
          }}
        />
      ) : null}
      {open?.kind === 'rotate' && form ? (
        <RotateDialog
          tile={open.tile}
          form={form}
          onClose={() => setOpen(undefined)}
          onDone={(tile) => {
            replace(tile);
            say(tile.id, { text: 'Rotated: the new secret is in use.', error: false });
            setOpen(undefined);
          }}
        />
      ) : null}
      {open?.kind === 'rename' ? (
        <RenameDialog
          tile={open.tile}
          onClose={() => setOpen(undefined)}
          onDone={(tile) => {
            replace(tile);
            setOpen(undefined);
          }}
        />
      ) : null}
      {open?.kind === 'delete' ? (
        <DeleteDialog
          tile={open.tile}
          onClose={() => setOpen(undefined)}
          onDone={() => {
            const gone = open.tile.id;
            const at = tiles?.findIndex((t) => t.id === gone) ?? -1;
            // The next tile; after the last one, the Add Credential tile.
            setFocusAfterDelete({ tileId: tiles?.[at + 1]?.id });
            setTiles((all) => all?.filter((t) => t.id !== gone));
            if (selected === gone) setSelected(undefined);
            setOpen(undefined);
          }}
        />
      ) : null}
    </section>
  );
}
