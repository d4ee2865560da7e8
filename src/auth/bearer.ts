import { InputError } from '../errors.js';
import type { AuthStrategy } from './auth-strategy.js';

/** A static token sent as `Authorization: Bearer <token>`. */
export function createBearerAuth(token: string): AuthStrategy {
  // The schema already refuses these; this guards hosts that build a strategy by hand,
  // since CR/LF in a header value would let a token smuggle in another header.
  if (!/^[\x21-\x7E]+$/.test(token))
    throw new InputError('the token must be visible ASCII without spaces or line breaks', { field: 'token' });
  const header = `Bearer ${token}`;
  return {
    authorization: async () => header,
    secrets: () => [token],
  };
}
