// ftp-srv 4 as an embedder would run it: one user, a root folder, a passive range, PASV
// advertised as 127.0.0.1; logging at 'warn' (its 'info' default logs every connection).
// Loaded from bench/.cache/ftp-srv, which bench/run.mjs installs from npm on first use.
'use strict';
const path = require('node:path');
const modules = path.join(process.env.FTP_SRV_DIR, 'node_modules');
const FtpSrv = require(path.join(modules, 'ftp-srv'));
const bunyan = require(path.join(modules, 'bunyan'));

const [pasvMin, pasvMax] = process.env.BENCH_PASV.split('-').map(Number);
const server = new FtpSrv({
  url: `ftp://127.0.0.1:${process.env.BENCH_PORT}`,
  pasv_url: '127.0.0.1',
  pasv_min: pasvMin,
  pasv_max: pasvMax,
  anonymous: false,
  log: bunyan.createLogger({ name: 'ftp-srv', level: 'warn' }),
});
server.on('login', ({ username, password }, resolve, reject) => {
  if (username === process.env.BENCH_USER && password === process.env.BENCH_PASS) resolve({ root: process.env.BENCH_ROOT });
  else reject(new Error('Bad username or password'));
});
server.listen().catch((err) => { console.error(err); process.exit(1); });
