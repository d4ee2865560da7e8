/** `--streams a,b` -> ['a', 'b'] */
export function commaList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}
