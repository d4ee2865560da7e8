import { describe, expect, it } from '@jest/globals';
import { oldestFirst } from '../../src/listing-order.js';

// Every listing (credentials, sources, destinations, API tokens, audit events) reads in this one
// order, so it is the same on every store, on every call, and for records made in one millisecond.

const at = (ms: number) => new Date(Date.UTC(2026, 10, 26, 12, 0, 0, ms)).toISOString();

describe('the listing order', () => {
  it('is oldest first, whatever the ids say', () => {
    const items = [
      { id: 'a', createdAt: at(3) },
      { id: 'b', createdAt: at(1) },
      { id: 'c', createdAt: at(2) },
    ];
    expect(oldestFirst(items).map((i) => i.id)).toEqual(['b', 'c', 'a']);
  });

  it('orders records made in the same millisecond by id, the same from any starting order', () => {
    const made = [
      { id: 'tok_9', createdAt: at(5) },
      { id: 'tok_1', createdAt: at(5) },
      { id: 'tok_5', createdAt: at(5) },
      { id: 'tok_0', createdAt: at(7) },
    ];
    for (const start of [made, [...made].reverse(), [made[2]!, made[0]!, made[3]!, made[1]!]]) {
      expect(oldestFirst([...start]).map((i) => i.id)).toEqual(['tok_1', 'tok_5', 'tok_9', 'tok_0']);
    }
  });

  it('compares by code unit, not by locale', () => {
    const items = [
      { id: 'b', createdAt: at(1) },
      { id: 'B', createdAt: at(1) },
      { id: 'a', createdAt: at(1) },
    ];
    expect(oldestFirst(items).map((i) => i.id)).toEqual(['B', 'a', 'b']);
  });

  it('reads the creation time where a record names it otherwise, and sorts in place', () => {
    const events = [
      { id: 'evt_2', at: at(1) },
      { id: 'evt_1', at: at(2) },
      { id: 'evt_0', at: at(1) },
    ];
    const sorted = oldestFirst(events, (e) => e.at);
    expect(sorted).toBe(events);
    expect(sorted.map((e) => e.id)).toEqual(['evt_0', 'evt_2', 'evt_1']);
  });
});
