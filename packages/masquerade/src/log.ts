/**
 * ProFTPD's own log texts for masquerading, so that an application logs the lines
 * operators already grep for. Each function returns the message only; the application adds
 * its own prefix (time, host, pid; mod_dynmasq prefixes its lines with `mod_dynmasq/0.5: `).
 * Sources: src/dirtree.c `fixup_servers`, doc/howto/NAT.html, contrib/mod_dynmasq.c,
 * modules/mod_core.c `core_pasv`.
 */

/**
 * The startup line of ProFTPD 1.3.x for a server with a MasqueradeAddress:
 * `127.0.0.1:2121 masquerading as 203.0.113.7` (IPv6 listeners are not bracketed:
 * `::1:2122 masquerading as 203.0.113.7`). `masquerade` is the resolved address, or the
 * configured name while it is unresolved.
 */
export function masqueradingLine(listenAddress: string, port: number, masquerade: string): string {
  return `${listenAddress}:${port} masquerading as ${masquerade}`;
}

/** The NAT howto's startup line: `Masquerading as '203.0.113.7' (ftp.example.com)`. */
export function masqueradingAsLine(address: string, name: string): string {
  return `Masquerading as '${address}' (${name})`;
}

/**
 * mod_dynmasq, when a refresh finds a new address:
 * `MasqueradeAddress 'ftp.example.com' updated for new address 203.0.113.8 (was 203.0.113.7)`;
 * a name that had never resolved shows `(was (null))`, as ProFTPD prints it.
 */
export function dynmasqUpdatedLine(name: string, address: string, previous: string | undefined): string {
  return `MasqueradeAddress '${name}' updated for new address ${address} (was ${previous ?? '(null)'})`;
}

/** mod_dynmasq, when a refresh finds the same address: `MasqueradeAddress '<name>' has not changed addresses`. */
export function dynmasqUnchangedLine(name: string): string {
  return `MasqueradeAddress '${name}' has not changed addresses`;
}

/** mod_dynmasq, when a refresh fails: `unable to resolve '<name>', keeping previous address`. */
export function dynmasqFailedLine(name: string): string {
  return `unable to resolve '${name}', keeping previous address`;
}

/**
 * The two lines ProFTPD logs when it sends a 227 on an IPv6 control connection
 * (`core_pasv`, Bug#3745).
 */
export function ipv6PasvLines(localAddress: string): readonly [string, string] {
  return [
    `sending a PASV response for an IPv6 address '${localAddress}'; some FTP clients may have interoperability issues with this response`,
    'please configure your FTP client to use the IPv6-compatible EPSV/EPRT commands',
  ];
}
