// Link-local addresses (169.254.0.0/16, fe80::/10) are where cloud metadata services answer — with the machine's
// credentials. A URL built from webhook data must not reach them, whether it names the address (in any of the forms
// URL parsing accepts, IPv4-mapped IPv6 included) or a host name that resolves there. Names are checked on the
// address they resolve to, at connect time, so every redirect hop and every name is covered, and the address checked
// is the one connected to (no second resolution that could answer differently).
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * The link-local networks, and the metadata addresses clouds put outside them: AWS's IPv6 one, Alibaba's, and the
 * NAT64 form of 169.254.0.0/16. BlockList also matches IPv4-mapped IPv6 (`::ffff:169.254.169.254`) against IPv4 rules.
 */
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');
LINK_LOCAL.addAddress('100.100.100.200', 'ipv4');
LINK_LOCAL.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');

/** The setting a refused host can be listed in. */
export const ALLOW_SETTING = 'webRequest.allowHosts / WEB_REQUEST_ALLOW_HOSTS';

/** A request the client will not send: the host is outside the allow-list or resolves to a link-local address. */
export class HostRefused extends Error {
  override name = 'HostRefused';
  readonly code = 'HTTP_HOST_REFUSED';
}

/** True for an IP address (no brackets) in 169.254.0.0/16 or fe80::/10, IPv4-mapped forms included. */
export function isLinkLocalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return LINK_LOCAL.check(address, family === 6 ? 'ipv6' : 'ipv4');
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
