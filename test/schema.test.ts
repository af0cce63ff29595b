import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, ExchangeEvent, SCHEMA_VERSION } from '../src/events/schema.js';
import { acceptOwnedEvent, eventJsonSchema, parseEvent } from '../src/events/validate.js';
import { simulate } from '../src/sim/simulator.js';
import { ROOT } from './helpers/cli.js';

describe('canonical event schema', () => {
  it('covers orders, trades, market data, account activity and financial products', () => {
    for (const t of [
      'order.placed', 'order.amended', 'order.cancelled', 'order.rejected', 'order.expired', 'trade',
      'bbo', 'depth', 'mark_price', 'index_price', 'funding', 'settlement', 'liquidation',
      'login', 'api_key.used', 'deposit', 'withdrawal', 'transfer.internal', 'balance.snapshot', 'position.snapshot',
      'loan.borrow', 'loan.repay', 'loan.liquidation', 'collateral.changed', 'earn.subscribe', 'earn.redeem', 'structured.subscribe',
    ]) expect(EVENT_TYPES).toContain(t);
  });

  it('keeps decimal strings exactly and applies defaults', () => {
    const r = parseEvent({ type: 'order.placed', id: 'o1', ts: 1, market: 'BTCUSDT', accountId: 'a', orderId: '1', side: 'buy', orderType: 'limit', price: '61837.63000000', size: '0.00100000' });
    expect(r.ok).toBe(true);
    if (r.ok && r.event.type === 'order.placed') {
      expect(r.event.price).toBe('61837.63000000');
      expect(r.event.size).toBe('0.00100000');
      expect(r.event.timeInForce).toBe('GTC');
    }
  });

  it('rejects with the field and the reason', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'trade', id: 't', ts: 1.5, market: 'X', tradeId: '1', price: '1', size: '1', aggressor: 'buy' }, /field ts/],
      [{ type: 'trade', id: 't', ts: 1, market: 'X', tradeId: '1', price: '1e3', size: '1', aggressor: 'buy' }, /field price/],
      [{ type: 'trade', id: 't', ts: 1, market: 'X', tradeId: '1', price: '0', size: '1', aggressor: 'buy' }, /field price: expected a positive decimal/],
      [{ type: 'deposit', id: 'd', ts: 1, accountId: 'a', asset: 'BTC', chain: 'BTC', amount: '1' }, /field address/],
      [{ type: 'nope', id: 'x', ts: 1 }, /unknown event type "nope"/],
      [[1, 2], /not a JSON object/],
      [{ id: 'x' }, /missing field "type"/],
    ];
    for (const [input, re] of cases) {
      const r = parseEvent(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(re);
    }
  });

  it('is exported as JSON Schema to docs/ and the committed file is current', () => {
    const file = `${ROOT}docs/schema/event.v${SCHEMA_VERSION}.schema.json`;
    const committed = JSON.parse(readFileSync(file, 'utf8'));
    const { $id: _id, title: _title, ...rest } = committed;
    expect(rest).toEqual(JSON.parse(JSON.stringify(eventJsonSchema())));
    expect(committed.anyOf ?? committed.oneOf).toHaveLength(ExchangeEvent.options.length);
  });
  it('the compiled validators accept exactly what zod accepts, with the same result', () => {
    const byType = new Map<string, Record<string, unknown>[]>();
    simulate({ seed: 7, duration: '3m' }, (e) => {
      const list = byType.get(e.type) ?? [];
      if (list.length < 2) byType.set(e.type, [...list, e as Record<string, unknown>]);
    });
    byType.set('depth', [{ type: 'depth', id: 'd', ts: 1, market: 'X', bids: [['1', '2']], asks: [] }]);
    byType.set('balance.snapshot', [{ type: 'balance.snapshot', id: 'b', ts: 1, accountId: 'a', balances: [{ asset: 'BTC', free: '1' }] }]);
    expect(byType.size).toBeGreaterThan(15);
    const bad: unknown[] = [null, 1.5, -1, 2 ** 53, '', 'x'.repeat(300), '1e3', '0', '-1', [], {}, true, ['1'], [['1']], [['1', '2', '3']], [{ asset: 'B', free: 'x' }]];
    let compared = 0;
    let rejected = 0;
    for (const samples of byType.values()) {
      for (const sample of samples) {
        const variants: Record<string, unknown>[] = [sample, { ...sample, extra: 1 }];
        for (const k of Object.keys(sample)) {
          const { [k]: _drop, ...rest } = sample;
          variants.push(rest);
          for (const b of bad) variants.push({ ...sample, [k]: b });
        }
        for (const v of variants) {
          const z = ExchangeEvent.safeParse(v);
          const fast = acceptOwnedEvent(JSON.parse(JSON.stringify(v)));
          expect([v, fast !== undefined]).toEqual([v, z.success]);
          if (z.success) expect(fast).toEqual(z.data);
          else rejected++;
          compared++;
        }
      }
    }
    expect(rejected).toBeGreaterThan(compared / 2);
  });
});

