// IPv4 and IPv6 CIDR matching for rule parameters such as "the pod network is 10.244.0.0/16".

/** The address as a 128-bit number (IPv4 mapped into ::ffff:0:0/96), or undefined when it is not an IP. */
export function parseIp(text: string): bigint | undefined {
  const ip = text.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return (0xffffn << 32n) | BigInt(((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3]);
  }
  if (!ip.includes(':') || !/^[0-9a-fA-F:.]+$/.test(ip)) return undefined;
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (!half) return [];
    const out: number[] = [];
    for (const part of half.split(':')) {
      if (part.includes('.')) {
        const v4 = parseIp(part);
        if (v4 === undefined) return undefined;
        out.push(Number((v4 >> 16n) & 0xffffn), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) out.push(parseInt(part, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail].reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export interface Cidr {
  base: bigint;
  mask: bigint;
}

export function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText] = text.split('/');
  const base = parseIp(address);
  if (base === undefined) return undefined;
  const v4 = !address.includes(':');
  const maxPrefix = v4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) return undefined;
  const bits = BigInt(128 - (v4 ? 96 + prefix : prefix));
  const mask = ((1n << 128n) - 1n) ^ ((1n << bits) - 1n);
  return { base: base & mask, mask };
}

const cache = new Map<string, Cidr | undefined>();

/** True when ip lies in any of the CIDRs; unparsable entries never match. */
export function ipInCidrs(ip: string, cidrs: readonly unknown[]): boolean {
  const address = parseIp(ip);
  if (address === undefined) return false;
  for (const entry of cidrs) {
    if (typeof entry !== 'string') continue;
    let cidr = cache.get(entry);
    if (cidr === undefined && !cache.has(entry)) {
      cidr = parseCidr(entry);
      if (cache.size < 10_000) cache.set(entry, cidr);
    }
    if (cidr && (address & cidr.mask) === cidr.base) return true;
  }
  return false;
}
