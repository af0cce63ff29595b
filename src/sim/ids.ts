import type { Rng } from './rng.js';

/**
 * Identifiers. Every participant, honest or not, draws from the same spaces (account ids are
 * random 8-digit numbers, order and trade ids one exchange-wide sequence each), so no id betrays
 * who is an abuser.
 */
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

export class Ids {
  private readonly accounts = new Set<string>();
  private readonly ipsUsed = new Set<string>();
  private loans = 0;
  private readonly loanBase: number;

  constructor(private readonly rng: Rng) {
    this.loanBase = rng.int(3_000_000, 9_000_000);
  }

  account(): string {
    for (;;) {
      const id = String(this.rng.int(10_000_000, 99_999_999));
      if (!this.accounts.has(id)) {
        this.accounts.add(id);
        return id;
      }
    }
  }

  loan(): string {
    return String(this.loanBase + ++this.loans * this.rng.int(1, 7));
  }

  session(): string {
    return this.rng.hex(20);
  }

  device(): string {
    return this.rng.hex(32);
  }

  apiKey(): string {
    return this.rng.hex(16);
  }

  campaign(): string {
    return `cmp-${this.rng.hex(6)}`;
  }

  /** A fresh public IPv4 address in one of the country's (illustrative) ranges. */
  ip(country: string): string {
    const first = FIRST_OCTETS[country] ?? FIRST_OCTETS.default;
    for (;;) {
      const ip = `${this.rng.pick(first)}.${this.rng.int(0, 255)}.${this.rng.int(0, 255)}.${this.rng.int(1, 254)}`;
      if (!this.ipsUsed.has(ip)) {
        this.ipsUsed.add(ip);
        return ip;
      }
    }
  }

  /** An address in the same /24 as `ip` (proxy pools, office NAT ranges). */
  neighbourIp(ip: string): string {
    const p = ip.split('.');
    for (;;) {
      const out = `${p[0]}.${p[1]}.${p[2]}.${this.rng.int(1, 254)}`;
      if (!this.ipsUsed.has(out)) {
        this.ipsUsed.add(out);
        return out;
      }
    }
  }

  address(chain: string): string {
    switch (chain) {
      case 'BTC':
        return `bc1q${this.chars(BECH32, 38)}`;
      case 'TRON':
        return `T${this.chars(BASE58, 33)}`;
      case 'SOL':
        return this.chars(BASE58, 44);
      default:
        return `0x${this.rng.hex(40)}`;
    }
  }

  txHash(chain: string): string {
    switch (chain) {
      case 'BTC':
      case 'TRON':
        return this.rng.hex(64);
      case 'SOL':
        return this.chars(BASE58, 87);
      default:
        return `0x${this.rng.hex(64)}`;
    }
  }

  private chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.rng.float() * alphabet.length)];
    return s;
  }
}

/** Plausible first octets per country; illustrative only. */
const FIRST_OCTETS: Record<string, number[]> = {
  US: [23, 34, 44, 54, 67, 98, 104, 173],
  GB: [31, 51, 81, 86, 109, 151],
  DE: [46, 62, 78, 84, 91, 178],
  FR: [37, 80, 82, 90, 176],
  SG: [43, 103, 118, 128, 175],
  JP: [27, 49, 60, 106, 126, 153],
  KR: [1, 14, 39, 58, 110, 121],
  TR: [31, 78, 88, 176, 185],
  BR: [138, 152, 177, 179, 186, 189],
  VN: [14, 27, 113, 115, 171],
  NG: [41, 102, 105, 129, 197],
  IN: [49, 103, 106, 117, 122, 157],
  AE: [5, 31, 86, 94, 185],
  UA: [31, 46, 91, 93, 176, 178],
  AR: [181, 186, 190, 200, 201],
  default: [45, 77, 89, 95, 185, 193, 212],
};

/** Countries weighted roughly like a global exchange's user base. */
export const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'SG', 'JP', 'KR', 'TR', 'BR', 'VN', 'NG', 'IN', 'AE', 'UA', 'AR'];
export const COUNTRY_WEIGHTS = [4, 5, 6, 4, 4, 5, 8, 9, 7, 9, 5, 9, 3, 5, 4];

export const USER_AGENTS = {
  web: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36',
  ],
  ios: ['Exchange/4.12.1 (iPhone; iOS 17.4.1; Scale/3.00)', 'Exchange/4.11.0 (iPhone; iOS 16.7.5; Scale/3.00)', 'Exchange/4.12.1 (iPad; iOS 17.3; Scale/2.00)'],
  android: ['Exchange/4.12.0 (Android 14; SM-S918B)', 'Exchange/4.10.3 (Android 13; Pixel 7)', 'Exchange/4.12.0 (Android 12; Redmi Note 11)', 'Exchange/4.9.8 (Android 11; V2111)'],
  api: ['python-requests/2.31.0', 'ccxt/4.2.85 (+https://github.com/ccxt/ccxt) Node.js/20.11.1', 'Go-http-client/2.0', 'okhttp/4.12.0'],
};

export const CHAINS: Record<string, string[]> = {
  USDT: ['TRON', 'ETH', 'BSC', 'SOL'],
  BTC: ['BTC'],
  ETH: ['ETH', 'ARB'],
};
