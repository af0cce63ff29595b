/**
 * Address normalisation, shared by labels, transfer graphs, screening and the entity graph, so one
 * address always has one key.
 *
 * - EVM addresses (0x + 40 hex) are case-insensitive (EIP-55 case is only a checksum): lower-cased.
 * - Bech32/bech32m addresses (bc1…, ltc1…, tb1…) are case-insensitive by spec: lower-cased.
 * - Cash-address (bitcoincash:q…) is lower-cased.
 * - Everything else (base58 bitcoin/tron/litecoin, XRP, Monero…) is case-sensitive and kept as is,
 *   apart from surrounding whitespace.
 */
const EVM = /^0x[0-9a-fA-F]{40}$/;
const BECH32 = /^(bc|tb|bcrt|ltc|tltc)1[02-9ac-hj-np-z]{6,87}$/i;

export function isEvmAddress(address: string): boolean {
  return EVM.test(address);
}

export function normalizeAddress(address: string): string {
  const a = address.trim();
  if (EVM.test(a) || BECH32.test(a)) return a.toLowerCase();
  if (/^(bitcoincash|bchtest):/i.test(a)) return a.toLowerCase();
  return a;
}

/** The chain family an address's shape suggests, when a list does not say (OFAC's USDT list mixes Tron and Ethereum). */
export function guessChain(address: string): string | undefined {
  const a = address.trim();
  if (EVM.test(a)) return 'evm';
  if (/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(a)) return 'tron';
  if (/^(bc1|[13])[0-9A-Za-z]{25,87}$/.test(a)) return 'bitcoin';
  if (/^(ltc1|[LM])[0-9A-Za-z]{25,87}$/.test(a)) return 'litecoin';
  if (/^r[1-9A-HJ-NP-Za-km-z]{24,34}$/.test(a)) return 'xrp';
  return undefined;
}
