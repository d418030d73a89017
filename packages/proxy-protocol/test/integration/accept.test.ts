import diagnosticsChannel from 'node:diagnostics_channel';
import { once } from 'node:events';
import { type AddressInfo, type Server, Socket, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { alpnTlv, authorityTlv, encodeV1, encodeV2 } from '../../src/index.js';
import { type AcceptProxiedOptions, type AcceptProxiedResult, PROXY_PROTOCOL_CHANNEL, acceptProxied } from '../../src/node/index.js';
import { ascii, concat } from '../feed.js';

const FTP = ascii('USER anonymous\r\n');
const HEADER = { family: 'tcp4' as const, source: { address: '198.51.100.7', port: 50123 }, destination: { address: '203.0.113.10', port: 21 } };
const sockets = new Set<Socket>();
const servers = new Set<Server>();

afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all([...servers].map((s) => new Promise((r) => s.close(r))));
  servers.clear();
});

interface Accepted {
  result: AcceptProxiedResult;
  socket: Socket;
  ms: number;
}

/** A server on 127.0.0.1 that runs acceptProxied on each connection. */
async function serve(options: AcceptProxiedOptions): Promise<{ port: number; next: () => Promise<Accepted> }> {
  const waiting: ((a: Accepted) => void)[] = [];
  const ready: Promise<Accepted>[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    const started = Date.now();
    const p = acceptProxied(socket, options).then((result) => ({ result, socket, ms: Date.now() - started }));
    const w = waiting.shift();
    if (w) void p.then(w);
    else ready.push(p);
  });
  servers.add(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    next: () => ready.shift() ?? new Promise((r) => waiting.push(r)),
  };
}

async function client(port: number): Promise<Socket> {
  const c = connect(port, '127.0.0.1');
  sockets.add(c);
  c.on('error', () => {});
  await once(c, 'connect');
  return c;
}

/** `first` plus what the socket delivers next, until `n` bytes are there. */
async function readAtLeast(socket: Socket, first: Uint8Array, n: number): Promise<Uint8Array> {
  let got = concat(first);
  while (got.length < n) {
    const [chunk] = (await once(socket, 'data')) as [Uint8Array];
    got = concat(got, chunk);
  }
  return got;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('acceptProxied on 127.0.0.1', () => {
  it('reads a v2 header, hands back the FTP bytes after it, and the socket stays usable', async () => {
    const srv = await serve({ trusted: ['127.0.0.0/8'], timeoutMs: 2000 });
    const c = await client(srv.port);
    c.write(concat(encodeV2({ ...HEADER, tlvs: [alpnTlv('ftp'), authorityTlv('ftp.example.com')] }, { crc32c: true }), FTP));
    const { result, socket } = await srv.next();
    expect(result).toMatchObject({
      ok: true,
      proxied: true,
      remoteAddress: '198.51.100.7',
      remotePort: 50123,
      localAddress: '203.0.113.10',
      localPort: 21,
      peerAddress: '127.0.0.1',
      peerPort: c.localPort,
      header: { version: 2, command: 'PROXY', alpn: 'ftp', authority: 'ftp.example.com', crc32c: expect.any(Number) },
    });
    if (!result.ok) return;
    expect(await readAtLeast(socket, result.rest, FTP.length)).toEqual(FTP);
    socket.write('220 ready\r\n');
    const [reply] = (await once(c, 'data')) as [Uint8Array];
    expect(String.fromCharCode(...reply)).toBe('220 ready\r\n');
  });

  it('publishes every outcome on the diagnostics channel', async () => {
    const seen: AcceptProxiedResult[] = [];
    const listener = (m: unknown): void => void seen.push(m as AcceptProxiedResult);
    diagnosticsChannel.subscribe(PROXY_PROTOCOL_CHANNEL, listener);
    try {
      const srv = await serve({ trusted: ['127.0.0.1'], timeoutMs: 2000 });
      (await client(srv.port)).write(encodeV1(HEADER));
      const a = await srv.next();
      (await client(srv.port)).write(FTP);
      const b = await srv.next();
      expect(seen).toEqual([a.result, b.result]);
      expect(seen.map((r) => r.ok)).toEqual([true, false]);
    } finally {
      diagnosticsChannel.unsubscribe(PROXY_PROTOCOL_CHANNEL, listener);
    }
  });

  it('reads a header that arrives in pieces', async () => {
    const srv = await serve({ trusted: ['127.0.0.1'], timeoutMs: 2000 });
    const c = await client(srv.port);
    const h = encodeV2({ family: 'tcp6', source: { address: '2001:db8::7', port: 40000 }, destination: { address: '2001:db8::21', port: 2121 } });
    for (const piece of [h.subarray(0, 5), h.subarray(5, 14), h.subarray(14, 30), h.subarray(30)]) {
      c.write(piece);
      await sleep(15);
    }
    c.write(FTP);
    const { result, socket } = await srv.next();
    expect(result).toMatchObject({ ok: true, proxied: true, remoteAddress: '2001:db8::7', remotePort: 40000, localAddress: '2001:db8::21', localPort: 2121 });
    if (result.ok) expect(await readAtLeast(socket, result.rest, FTP.length)).toEqual(FTP);
  });

  it('reads a v1 line', async () => {
    const srv = await serve({ trusted: ['::ffff:127.0.0.1'], timeoutMs: 2000 });
    const c = await client(srv.port);
    c.write(concat(encodeV1(HEADER), FTP));
    const { result } = await srv.next();
    expect(result).toMatchObject({ ok: true, proxied: true, remoteAddress: '198.51.100.7', header: { version: 1 } });
  });

  it('LOCAL and UNKNOWN keep the real endpoints', async () => {
    const srv = await serve({ trusted: ['127.0.0.1'], timeoutMs: 2000 });
    const c1 = await client(srv.port);
    c1.write(encodeV2({ command: 'LOCAL', family: 'unknown' }));
    const a = await srv.next();
    expect(a.result).toMatchObject({ ok: true, proxied: false, remoteAddress: '127.0.0.1', remotePort: c1.localPort, localAddress: '127.0.0.1', localPort: srv.port, header: { command: 'LOCAL' } });
    const c2 = await client(srv.port);
    c2.write(ascii('PROXY UNKNOWN\r\n'));
    const b = await srv.next();
    expect(b.result).toMatchObject({ ok: true, proxied: false, remoteAddress: '127.0.0.1', remotePort: c2.localPort, header: { family: 'unknown' } });
  });

  it('leaves an untrusted peer alone: not proxied, its bytes unread', async () => {
    const srv = await serve({ trusted: ['10.0.0.0/8'], timeoutMs: 2000 });
    const c = await client(srv.port);
    const h = encodeV1(HEADER);
    c.write(concat(h, FTP));
    const { result, socket } = await srv.next();
    expect(result).toEqual({ ok: true, proxied: false, remoteAddress: '127.0.0.1', remotePort: c.localPort, localAddress: '127.0.0.1', localPort: srv.port, rest: new Uint8Array(0), peerAddress: '127.0.0.1', peerPort: c.localPort });
    expect(await readAtLeast(socket, new Uint8Array(0), h.length + FTP.length)).toEqual(concat(h, FTP));
  });

  it('refuses an untrusted peer when a header is required', async () => {
    const srv = await serve({ trusted: ['10.0.0.0/8'], timeoutMs: 2000, required: true });
    const c = await client(srv.port);
    const closed = once(c, 'close');
    const { result } = await srv.next();
    expect(result).toMatchObject({ ok: false, reason: 'untrusted', peerAddress: '127.0.0.1' });
    await closed;
  });

  it('drops a trusted peer that sends no header in time', async () => {
    const srv = await serve({ trusted: ['127.0.0.1'], timeoutMs: 150 });
    const c = await client(srv.port);
    const closed = once(c, 'close');
    c.write(encodeV2(HEADER).subarray(0, 10)); // a slow or stalled sender
    const { result, ms } = await srv.next();
    expect(result).toMatchObject({ ok: false, reason: 'timeout', message: expect.stringContaining('150 ms') });
    expect(ms).toBeGreaterThanOrEqual(140);
    await closed;
  });

  it('drops a trusted peer that speaks FTP straight away (no guessing, §2)', async () => {
    const srv = await serve({ trusted: ['127.0.0.1'], timeoutMs: 2000 });
    const c = await client(srv.port);
    const closed = once(c, 'close');
    c.write(FTP);
    const { result, ms } = await srv.next();
    expect(result).toMatchObject({ ok: false, reason: 'bad-header', error: { code: 'ERR_PROXY_SIGNATURE' } });
    expect(ms).toBeLessThan(1000);
    await closed;
  });

  it('drops a header with a bad checksum', async () => {
    const srv = await serve({ trusted: ['127.0.0.1'], timeoutMs: 2000 });
    const c = await client(srv.port);
    const h = encodeV2(HEADER, { crc32c: true });
    h[h.length - 1]! ^= 1;
    c.write(h);
    const { result } = await srv.next();
    expect(result).toMatchObject({ ok: false, reason: 'bad-header', error: { code: 'ERR_PROXY_V2_CRC32C' } });
  });

  it('reports a peer that closes inside the header', async () => {
    const srv = await serve({ trusted: ['127.0.0.1'], timeoutMs: 2000 });
    const c = await client(srv.port);
    c.end(encodeV2(HEADER).subarray(0, 20));
    const { result } = await srv.next();
    expect(result).toMatchObject({ ok: false, reason: 'closed', error: { code: 'ERR_PROXY_TRUNCATED' } });
  });

  it('throws synchronously for bad options', () => {
    const sock = new Socket();
    expect(() => acceptProxied(sock, { trusted: [], timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_PROXY_OPTION_INVALID' }));
    expect(() => acceptProxied(sock, { trusted: ['10.1/8'], timeoutMs: 100 })).toThrow(expect.objectContaining({ code: 'ERR_PROXY_TRUSTED_INVALID' }));
    expect(() => acceptProxied(sock, { trusted: [], timeoutMs: 100, maxHeaderBytes: 3 })).toThrow(expect.objectContaining({ code: 'ERR_PROXY_OPTION_INVALID' }));
  });

  it('refuses a socket that is already closed', async () => {
    const sock = new Socket();
    expect(await acceptProxied(sock, { trusted: ['127.0.0.1'], timeoutMs: 100 })).toMatchObject({ ok: false, reason: 'closed' });
  });
});
