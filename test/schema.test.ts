import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, ExchangeEvent, SCHEMA_VERSION } from '../src/events/schema.js';
import { eventJsonSchema, parseEvent } from '../src/events/validate.js';
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
});
