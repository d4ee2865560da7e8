/** Shows caller-supplied text in a message: printable ASCII only, and short. Never pass a secret. */
export function printable(text: string, max = 40): string {
  const clean = text.replace(/[^\x20-\x7E]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
