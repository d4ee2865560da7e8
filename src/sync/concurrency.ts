import { InputError } from '../errors.js';

/** The most requests of one credential a sync keeps in flight (the schemas say the same). */
export const MAX_CONCURRENCY = 32;

/** A sync's or a source's concurrency, refused by name unless it is a whole number from 1 to 32. */
export function checkConcurrency(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > MAX_CONCURRENCY) {
    throw new InputError(`concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`, { field: 'concurrency' });
  }
  return value;
}
