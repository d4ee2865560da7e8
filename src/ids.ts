/**
 * The shape of each kind of id credport hands out, and how a refusal of a malformed one says it.
 * The schemas of what carries them (credential-tile, source, destination, sync-job, access-token,
 * and the credentialId of the create requests) hold the same patterns: test/unit/ids.test.ts keeps
 * them equal.
 */
export const ID_SHAPES = {
  credential: { pattern: '^cred_[a-z0-9]{16,32}$', example: 'cred_0123456789abcdef' },
  source: { pattern: '^src_[a-z0-9]{16,32}$', example: 'src_0123456789abcdef0123' },
  destination: { pattern: '^dst_[a-z0-9]{16,32}$', example: 'dst_0123456789abcdef0123' },
  sync: { pattern: '^sync_[a-z0-9]{16,32}$', example: 'sync_0123456789abcdef0123' },
  token: { pattern: '^tok_[0-9a-f]{16}$', example: 'tok_0123456789abcdef' },
  connector: { pattern: '^[a-z][a-z0-9-]{0,39}$', example: 'front' },
  'connect session': { pattern: '^csn_[a-z0-9]{16,32}$', example: 'csn_0123456789abcdef' },
  'webhook endpoint': { pattern: '^whe_[a-z0-9]{16,32}$', example: 'whe_0123456789abcdef' },
} as const;

export type IdKind = keyof typeof ID_SHAPES;

/** What a malformed id is told, after the field's name: "id is not a credential id (they look like cred_0123456789abcdef)". */
export function malformedId(kind: IdKind): string {
  return kind === 'connector'
    ? 'is not a connector id (lowercase letters, digits and -, such as front)'
    : `is not a ${kind} id (they look like ${ID_SHAPES[kind].example})`;
}

export function isId(kind: IdKind, value: unknown): value is string {
  return typeof value === 'string' && new RegExp(ID_SHAPES[kind].pattern).test(value);
}
