// Link-local addresses (169.254.0.0/16, fe80::/10) are where cloud metadata services answer — with the machine's
// credentials. A URL built from webhook data must not reach them, whether it names the address (in any of the forms
// URL parsing accepts, and in the IPv6 forms that carry an IPv4 address: mapped, compatible, NAT64, 6to4) or a host
// name that resolves there. Names are checked on the address they resolve to, at connect time, so every redirect hop
// and every name is covered, and the address checked is the one connected to (no second resolution that could answer
// differently).
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * The link-local networks, and the metadata addresses clouds put outside them: AWS's and Google Cloud's IPv6 ones,
 * Alibaba's. BlockList parses every textual form (compressed, expanded, dotted tail, a zone id) and also matches
 * IPv4-mapped IPv6 (`::ffff:169.254.169.254`) against the IPv4 rules; the other IPv6 forms that carry an IPv4 address
 * are read by `embeddedIPv4` below.
 */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addAddress('100.100.100.200', 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');
LINK_LOCAL.addAddress('fd20:ce::254', 'ipv6');

/**
 * Where IPv6 addresses carry an IPv4 address that a gateway, a relay or the host's own stack may deliver to: the
 * prefix (its bytes) and, for each way of reading the address, the byte offsets of the IPv4 address's four bytes.
 * An address under one of these prefixes is refused when any reading lands on a refused IPv4 address.
 */
const EMBEDDINGS: ReadonlyArray<{ name: string; prefix: readonly number[]; readings: ReadonlyArray<readonly number[]> }> = [
  // ::a.b.c.d, deprecated "IPv4-compatible" (RFC 4291); stacks that still accept it send to a.b.c.d.
  { name: 'IPv4-compatible ::/96', prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], readings: [[12, 13, 14, 15]] },
  // ::ffff:0:a.b.c.d, "IPv4-translated" (SIIT, RFC 2765).
  { name: 'IPv4-translated ::ffff:0:0:0/96', prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], readings: [[12, 13, 14, 15]] },
  // 64:ff9b::a.b.c.d, the well-known NAT64 prefix (RFC 6052: only /96).
  { name: 'NAT64 64:ff9b::/96', prefix: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], readings: [[12, 13, 14, 15]] },
  // 64:ff9b:1::/48, the local-use NAT64 prefix (RFC 8215): the network picks a prefix of 48, 56, 64 or 96 bits inside
  // it, and RFC 6052 puts the IPv4 address at a different place for each (skipping byte 8). Each length is tried.
  {
    name: 'local-use NAT64 64:ff9b:1::/48',
    prefix: [0, 0x64, 0xff, 0x9b, 0, 1],
    readings: [[6, 7, 9, 10], [7, 9, 10, 11], [9, 10, 11, 12], [12, 13, 14, 15]],
  },
  // 2002:WWXX:YYZZ::/48, 6to4 (RFC 3056): the site's IPv4 address follows the prefix.
  { name: '6to4 2002::/16', prefix: [0x20, 0x02], readings: [[2, 3, 4, 5]] },
];

/**
 * The 16 bytes of an IPv6 address in any textual form `isIP` accepts: `::` anywhere, groups of one to four hex
 * digits in either case, a dotted IPv4 tail, a `%zone` suffix.
 */
export function ipv6Bytes(address: string): number[] {
  const text = address.replace(/%.*$/, '');
  const groupsOf = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
        groups.push((a << 8) | b, (c << 8) | d);
      } else groups.push(parseInt(g, 16));
    }
    return groups;
  };
  const [head, tail] = text.split('::') as [string, string | undefined];
  const front = groupsOf(head);
  const back = tail === undefined ? [] : groupsOf(tail);
  const groups = [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The IPv4 addresses an IPv6 address carries (see EMBEDDINGS), dotted; none for an address under no such prefix. */
export function embeddedIPv4(address: string): string[] {
  const bytes = ipv6Bytes(address);
  const found: string[] = [];
  for (const e of EMBEDDINGS) {
    if (!e.prefix.every((b, i) => bytes[i] === b)) continue;
    for (const at of e.readings) found.push(at.map((i) => bytes[i]).join('.'));
  }
  return found;
}

/** The setting a refused host can be listed in. */
export const ALLOW_SETTING = 'webRequest.allowHosts / WEB_REQUEST_ALLOW_HOSTS';

/** A request the client will not send: the host is outside the allow-list or resolves to a link-local address. */
export class HostRefused extends Error {
  override name = 'HostRefused';
  readonly code = 'HTTP_HOST_REFUSED';
}

/**
 * True for an IP address (no brackets) in 169.254.0.0/16 or fe80::/10, or one of the metadata addresses above, in any
 * textual form, or an IPv6 address that carries one of those IPv4 addresses (mapped, compatible, NAT64, 6to4).
 */
export function isLinkLocalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return LINK_LOCAL.check(address, 'ipv4');
  return LINK_LOCAL.check(address, 'ipv6') || embeddedIPv4(address).some((v4) => LINK_LOCAL.check(v4, 'ipv4'));
}

/**
 * True when a URL's hostname is a literal link-local address: `169.254.169.254`, `[fe80::1]`, or `[::ffff:a9fe:a9fe]`
 * (what URL makes of `[::ffff:169.254.169.254]`). URL has already turned 2852039166 or 0xa9fea9fe into dotted form.
 * Host names are checked on what they resolve to: see `refusingLinkLocal`.
 */
export function isLinkLocal(hostname: string): boolean {
  return isLinkLocalAddress(hostname.replace(/^\[|\]$/g, ''));
}

/** The refusal of a link-local literal or of a name that resolved to one; names the setting that would allow it. */
export function linkLocalRefusal(host: string, address?: string): HostRefused {
  const what = address === undefined ? `${host} is a link-local address` : `${host} resolves to ${address}, a link-local address`;
  return new HostRefused(`${what} (cloud metadata services live there): refused unless ${host} is listed in ${ALLOW_SETTING}`);
}

/**
 * A `lookup` for the HTTP agents that fails the connection with a `HostRefused` when a name resolves to a link-local
 * address and `allowed(name)` is false. Every address of the answer is checked, not only the first: with several, the
 * connection may try any of them. Literal addresses never come here (the socket skips the lookup for them).
 */
export function refusingLinkLocal(allowed: (host: string) => boolean, lookup: LookupFunction = dnsLookup as LookupFunction): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, options, (err: NodeJS.ErrnoException | null, address: string | Array<{ address: string; family: number }>, family?: number) => {
      if (err) return callback(err, address as string, family);
      const addresses = typeof address === 'string' ? [address] : address.map((a) => a.address);
      const bad = addresses.find(isLinkLocalAddress);
      if (bad !== undefined && !allowed(hostname)) return callback(linkLocalRefusal(hostname, bad) as NodeJS.ErrnoException, '', 0);
      (callback as (e: null, a: typeof address, f?: number) => void)(null, address, family);
    });
  };
}
