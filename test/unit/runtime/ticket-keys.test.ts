import { describe, expect, it, vi } from 'vitest';
import { rotateTicketKeys, TICKET_KEY_BYTES, TicketKeyHolder } from '../../../src/runtime/ticket-keys.ts';

describe('TicketKeyHolder', () => {
  it('starts with a random 48-byte key, different per holder', () => {
    const a = new TicketKeyHolder().current();
    const b = new TicketKeyHolder().current();
    expect(a.length).toBe(TICKET_KEY_BYTES);
    expect(a.equals(b)).toBe(false);
  });

  it('takes a key that crossed a process boundary as a Uint8Array view and tells listeners', () => {
    const holder = new TicketKeyHolder();
    const seen: Buffer[] = [];
    holder.onChange((k) => seen.push(k));
    const backing = new Uint8Array(64).fill(7);
    const view = backing.subarray(8, 8 + TICKET_KEY_BYTES);
    holder.set(view);
    expect(Buffer.isBuffer(holder.current())).toBe(true);
    expect(holder.current().length).toBe(TICKET_KEY_BYTES);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.equals(Buffer.alloc(TICKET_KEY_BYTES, 7))).toBe(true);
  });

  it('refuses a key of the wrong size', () => {
    expect(() => new TicketKeyHolder().set(new Uint8Array(32))).toThrow(/48 bytes, not 32/);
  });
});

describe('rotateTicketKeys', () => {
  it('replaces the key every interval', () => {
    vi.useFakeTimers();
    try {
      const holder = new TicketKeyHolder();
      const first = holder.current();
      const stop = rotateTicketKeys(holder, 1000);
      vi.advanceTimersByTime(999);
      expect(holder.current()).toBe(first);
      vi.advanceTimersByTime(1);
      const second = holder.current();
      expect(second.equals(first)).toBe(false);
      stop();
      vi.advanceTimersByTime(5000);
      expect(holder.current()).toBe(second);
    } finally {
      vi.useRealTimers();
    }
  });
});
