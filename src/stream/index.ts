/** Streaming primitives on event time (see each module for its contract). */
export { Watermark, type WatermarkOptions, type WatermarkOutput } from './watermark.js';
export { RollingWindow, RollingCount, type RollingOptions } from './rolling.js';
export { Ewma, EwRate } from './ewma.js';
export { OrderStatisticTree, RollingQuantile, P2Quantile, type RollingQuantileOptions } from './rolling-quantile.js';
export { KeyedState, type KeyedOptions } from './keyed.js';
export { TimeHeap } from './heap.js';
export { parseDecimal, toScaledInt, formatScaled, significantDecimals } from './scaled.js';
export { MarketBooks, MarketBook, Touch, TradeParties, MAKER_FILLED, TAKER_FILLED, type BookSnapshot, type BookSource, type BooksOptions } from './books.js';
export { OrderFlow, FlowCounters, Position, AccountFlow, AccountMarketFlow, MarketFlow, type OrderFlowOptions } from './order-flow.js';
