import { homedir } from 'node:os';
import { join } from 'node:path';

export interface StoreLocation {
  /** Folder of the default SQLite file and the master key file. */
  home: string;
  /** keyv store URI; `sqlite://<home>/credport.sqlite` unless CREDPORT_STORE or --store says otherwise. */
  uri: string;
  keyFile: string;
}

export interface StoreLocationInput {
  home?: string | undefined;
  storeUri?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/** CREDPORT_HOME, else $XDG_DATA_HOME/credport, else ~/.local/share/credport. */
export function resolveStoreLocation(input: StoreLocationInput = {}): StoreLocation {
  const env = input.env ?? process.env;
  const home =
    input.home ?? nonEmpty(env.CREDPORT_HOME) ?? join(nonEmpty(env.XDG_DATA_HOME) ?? join(homedir(), '.local', 'share'), 'credport');
  const uri = input.storeUri ?? nonEmpty(env.CREDPORT_STORE) ?? `sqlite://${join(home, 'credport.sqlite')}`;
  return { home, uri, keyFile: join(home, 'master.key') };
}

/** An environment value, or undefined when it is unset or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
