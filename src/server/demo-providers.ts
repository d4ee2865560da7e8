import { FrontEmulator } from '../emulator/front-emulator.js';
import { FronteggEmulator } from '../emulator/frontegg-emulator.js';
import { FrontlineEmulator } from '../emulator/frontline-emulator.js';

/** What the web app offers per connector in demo mode: the emulator's origin and its test values. */
export interface DemoProvider {
  baseUrl: string;
  /** Test credentials of a loopback emulator: not secrets of any real account. */
  values: Record<string, string>;
  note: string;
}

/** The three emulators on loopback, for `credport serve --demo`: the whole flow with no account anywhere. */
export async function startDemoProviders(): Promise<{ providers: Record<string, DemoProvider>; stop: () => Promise<void> }> {
  const front = await new FrontEmulator({ records: 1000 }).start();
  const frontline = await new FrontlineEmulator({}).start();
  const frontegg = await new FronteggEmulator({}).start();
  const providers: Record<string, DemoProvider> = {
    front: { baseUrl: front.url, values: { apiKey: [...front.tokens][0]! }, note: 'Front emulator on loopback' },
    frontline: {
      baseUrl: frontline.url,
      values: { apiKey: frontline.keyOfType('USER') },
      note: `Frontline emulator on loopback; a GENERAL key: ${frontline.keyOfType('GENERAL')}`,
    },
    frontegg: {
      baseUrl: frontegg.url,
      values: { clientId: frontegg.credentials.clientId, secret: frontegg.credentials.secret },
      note: 'Frontegg emulator on loopback',
    },
  };
  return { providers, stop: async () => void (await Promise.all([front.stop(), frontline.stop(), frontegg.stop()])) };
}
