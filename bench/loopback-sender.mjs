#!/usr/bin/env node
// The other half of the physical-limit figure: a plain Node TCP server on 127.0.0.1 that,
// once a connection sends its first byte, writes `--bytes` from one preallocated buffer and
// closes. Prints its port on stdout; exits after `--connections` connections are served.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { pump } from './lib/ftp.mjs';

const { values: opt } = parseArgs({ options: { bytes: { type: 'string' }, connections: { type: 'string', default: '1' } } });
const total = Number(opt.bytes);
let left = Number(opt.connections);
const chunk = Buffer.alloc(1 << 20, 0x62);

const server = net.createServer((socket) => {
  socket.once('data', () => { pump(socket, chunk, total).catch(() => {}); });
  socket.on('error', () => {});
  socket.on('close', () => { if (--left === 0) server.close(); });
});
server.listen({ host: '127.0.0.1', port: 0 }, () => process.stdout.write(`${server.address().port}\n`));
setTimeout(() => process.exit(3), 600_000).unref();
