// From raw results to the one table: the median of each figure over the rounds, ftpkit's
// ratio to each peer measured in the same run, and each target marked met or missed.

/** Tests: what run.mjs measures per server and round. */
export const TESTS = {
  loopback1: { group: 'loopback', label: 'Node loopback, 1 stream' },
  loopback4: { group: 'loopback', label: 'Node loopback, 4 streams' },
  retr1: { group: 'retr' }, retr4: { group: 'retr' },
  stor1: { group: 'stor' }, stor4: { group: 'stor' },
  sessions1: { group: 'sessions' }, sessions8: { group: 'sessions' },
  pipeline1: { group: 'pipeline' }, pipeline16: { group: 'pipeline' },
  idle: { group: 'idle' },
  pasv: { group: 'pasv' }, 'pasv-connect': { group: 'pasv' },
  'pasv-full-foreign': { group: 'pasv-full' }, 'pasv-full-sessions': { group: 'pasv-full' },
};

// A step counts when at least 95% of its sessions stayed logged in.
const idleStep = (n, key) => (r) => r.steps?.find((s) => s.sessions >= n * 0.95 && s.sessions <= n)?.[key];
const thousands = (n) => fmtNum(n, 0).replace(/^(\d)(\d{3})$/, '$1 $2');

/**
 * Rows of the table. pick(result) -> number | undefined. better: 'higher' | 'lower'.
 * target: { kind: 'best' | 'peer' | 'max' | 'min', factor?, peer?, value?, text }.
 */
export function tableRows({ idleSteps = [1000, 5000] } = {}) {
  const [idleA, idleB] = [idleSteps[0], idleSteps[idleSteps.length - 1]];
  return [
  { id: 'retr1', test: 'retr1', label: 'RETR 1 client, MB/s', pick: (r) => r.MBps, better: 'higher', target: { kind: 'best', factor: 1, text: '≥ 1.0× best' } },
  { id: 'retr1-loopback', test: 'retr1', label: 'RETR 1 client, share of Node loopback', pick: (r) => r.MBps, relativeTo: 'loopback1', better: 'higher', unit: '%', target: { kind: 'min', value: 0.75, text: '≥ 75%' } },
  { id: 'retr4', test: 'retr4', label: 'RETR 4 clients, MB/s', pick: (r) => r.MBps, better: 'higher', target: { kind: 'best', factor: 1, text: '≥ 1.0× best' } },
  { id: 'retr4-loopback', test: 'retr4', label: 'RETR 4 clients, share of Node loopback', pick: (r) => r.MBps, relativeTo: 'loopback4', better: 'higher', unit: '%' },
  { id: 'stor1', test: 'stor1', label: 'STOR 1 client, MB/s', pick: (r) => r.MBps, better: 'higher', target: { kind: 'best', factor: 1, text: '≥ 1.0× best' } },
  { id: 'stor4', test: 'stor4', label: 'STOR 4 clients, MB/s', pick: (r) => r.MBps, better: 'higher', target: { kind: 'best', factor: 1, text: '≥ 1.0× best' } },
  { id: 'sessions1', test: 'sessions1', label: 'sessions/s, 1 worker', pick: (r) => r.perSecond, better: 'higher' },
  { id: 'sessions8', test: 'sessions8', label: 'sessions/s, 8 workers', pick: (r) => r.perSecond, better: 'higher', target: { kind: 'peer', peer: 'pure-ftpd', factor: 1, text: '≥ 1.0× pure-ftpd' } },
  { id: 'sessions8-p50', test: 'sessions8', label: 'session p50 ms, 8 workers', pick: (r) => r.p50ms, better: 'lower', digits: 1 },
  { id: 'sessions8-p99', test: 'sessions8', label: 'session p99 ms, 8 workers', pick: (r) => r.p99ms, better: 'lower', digits: 1 },
  { id: 'pipeline1', test: 'pipeline1', label: 'pipelined cmds/s, depth 1', pick: (r) => r.perSecond, better: 'higher' },
  { id: 'pipeline16', test: 'pipeline16', label: 'pipelined cmds/s, depth 16', pick: (r) => r.perSecond, better: 'higher', target: { kind: 'peer', peer: 'pure-ftpd', factor: 1, text: '≥ 1.0× pure-ftpd' } },
  { id: `idle${idleA}`, test: 'idle', label: `idle PSS KiB/session, ${thousands(idleA)} sessions`, pick: idleStep(idleA, 'pssKiBPerSession'), better: 'lower', digits: 1 },
  { id: `idle${idleB}`, test: 'idle', label: `idle PSS KiB/session, ${thousands(idleB)} sessions`, pick: idleStep(idleB, 'pssKiBPerSession'), stoppedAt: idleStep(idleA, 'pssKiBPerSession'), stoppedNote: `at ${thousands(idleA)}`, better: 'lower', digits: 1, target: { kind: 'max', value: 12, text: '≤ 12 KiB' } },
  { id: `idle${idleB}-rss`, test: 'idle', label: `idle RSS KiB/session, ${thousands(idleB)} sessions`, pick: idleStep(idleB, 'rssKiBPerSession'), stoppedAt: idleStep(idleA, 'rssKiBPerSession'), stoppedNote: `at ${thousands(idleA)}`, better: 'lower', digits: 1 },
  { id: 'pasv', test: 'pasv', label: 'PASV/s in one session', pick: (r) => r.perSecond, better: 'higher', target: { kind: 'peer', peer: 'pure-ftpd', factor: 1.5, text: '≥ 1.5× pure-ftpd' } },
  { id: 'pasv-connect', test: 'pasv-connect', label: 'PASV+connect/s in one session', pick: (r) => r.perSecond, better: 'higher', target: { kind: 'peer', peer: 'pure-ftpd', factor: 1.5, text: '≥ 1.5× pure-ftpd' } },
  { id: 'pasv-connect-out', test: 'pasv-connect', label: 'PASV+connect replies outside the range', pick: (r) => r.outOfRange, better: 'lower', noRatio: true, worst: true, digits: 0 },
  { id: 'pasv-leak', test: 'pasv', label: 'passive listeners left after QUIT', pick: (r) => r.listenersAfterQuit, better: 'lower', noRatio: true, worst: true, digits: 0, target: { kind: 'max', value: 0, text: '0' } },
  { id: 'pasv-connect-leak', test: 'pasv-connect', label: 'same, after PASV+connect', pick: (r) => r.listenersAfterQuit, better: 'lower', noRatio: true, worst: true, digits: 0, target: { kind: 'max', value: 0, text: '0' } },
  { id: 'pasv-full-foreign', test: 'pasv-full-foreign', label: 'PASV, range taken by other listeners', describe: describeFull },
  { id: 'pasv-full-sessions', test: 'pasv-full-sessions', label: 'PASV, range held by other sessions', describe: describeFull },
  ];
}

function describeFull(results) {
  const sorted = [...results].sort((a, b) => a.ms - b.ms);
  const r = sorted[Math.floor((sorted.length - 1) / 2)];
  if (r.at === 'login') return `${r.code} at login after ${r.holders} sessions`;
  const where = r.code === 227 ? (r.inRange ? ' in range' : ' outside range') : '';
  // A holder refused means two sessions collided on one port (fork-per-session scans).
  const holders = r.variant === 'sessions' && r.holders227 < r.rangeSize ? ` (${r.holders227}/${r.rangeSize} holders got 227)` : '';
  return `${r.code}${where}, ${fmtNum(r.ms, r.ms < 10 ? 2 : 0)} ms${holders}`;
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** A ratio with enough digits to tell small ones apart (0.004×, 0.82×, 12.7×). */
export function fmtRatio(r) {
  return fmtNum(r, r >= 100 ? 0 : r >= 10 ? 1 : r >= 0.1 ? 2 : 3);
}

export function fmtNum(x, digits) {
  if (x === undefined) return '–';
  const d = digits ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2);
  const [int, frac] = Math.abs(x).toFixed(d).split('.');
  const grouped = int.length > 4 ? int.replace(/\B(?=(\d{3})+(?!\d))/g, ' ') : int;
  return `${x < 0 ? '-' : ''}${grouped}${frac ? `.${frac}` : ''}`;
}

/**
 * results: Map<test, Map<server, {ok, ...}[]>>; na: Map<server, reason>.
 * Returns { servers, rows: [{label, arrow, cells: string[], target, status}], loopback, missed }.
 */
export function buildTable(results, servers, na, opts = {}) {
  const okOf = (test, server) => (results.get(test)?.get(server) ?? []).filter((r) => r.ok);
  const errOf = (test, server) => (results.get(test)?.get(server) ?? []).find((r) => !r.ok)?.error;
  const loop = {
    loopback1: median(okOf('loopback1', 'node').map((r) => r.MBps)),
    loopback4: median(okOf('loopback4', 'node').map((r) => r.MBps)),
  };
  const loopOf = (test, round) => okOf(test, 'node').find((r) => r.round === round)?.MBps;
  const rows = [];
  const missed = [];
  for (const row of tableRows(opts)) {
    if (!results.has(row.test)) continue;
    const values = new Map();
    const cellText = new Map();
    for (const s of servers) {
      const ok = okOf(row.test, s);
      if (ok.length === 0 && na.has(s)) { cellText.set(s, `n/a (${na.get(s).split(':')[0]})`); continue; }
      if (ok.length === 0) {
        const e = errOf(row.test, s);
        cellText.set(s, e ? `n/a (${shorten(e)})` : '–');
        continue;
      }
      if (row.describe) { cellText.set(s, row.describe(ok)); continue; }
      const picked = ok.map(row.pick);
      let v = row.worst ? Math.max(...picked.filter((x) => x !== undefined)) : median(picked);
      if (!Number.isFinite(v)) v = undefined;
      // A share of the loopback figure pairs each round with the loopback of that round.
      if (row.relativeTo) v = median(ok.map((r) => { const l = loopOf(row.relativeTo, r.round); return l ? row.pick(r) / l : undefined; }));
      if (v === undefined && row.stoppedAt) {
        // The server stopped at the first step (process per session): show that, unjudged.
        const early = median(ok.filter((r) => r.stoppedEarly).map(row.stoppedAt));
        if (early !== undefined) { cellText.set(s, `${fmtNum(early, row.digits)} (${row.stoppedNote})`); continue; }
      }
      values.set(s, v);
      cellText.set(s, v === undefined ? '–' : row.unit === '%' ? `${fmtNum(v * 100, 0)}%` : fmtNum(v, row.digits));
    }
    const fk = values.get('ftpkit');
    const cells = servers.map((s) => {
      const t = cellText.get(s) ?? '–';
      const v = values.get(s);
      if (s === 'ftpkit' || row.noRatio || row.describe || fk === undefined || v === undefined || v === 0) return t;
      return `${t} (${fmtRatio(fk / v)}×)`;
    });
    const status = row.target ? judge(row.target, fk, values, servers) : '';
    if (status.startsWith('MISSED')) missed.push({ id: row.id, label: row.label, target: row.target.text, status, value: fk });
    rows.push({ id: row.id, label: row.label, arrow: row.better === 'higher' ? '↑' : row.better === 'lower' ? '↓' : '', cells, target: row.target?.text ?? '', status });
  }
  const notes = [...na].filter(([s]) => servers.includes(s)).map(([s, reason]) => `${s}: n/a, ${reason}`);
  return { servers, rows, loopback: loop, missed, notes };
}

function shorten(s) {
  const t = String(s).replace(/\s+/g, ' ');
  return t.length > 60 ? `${t.slice(0, 57)}…` : t;
}

function judge(target, fk, values, servers) {
  if (fk === undefined) return 'n/a';
  let ok;
  let ref;
  if (target.kind === 'best') {
    const peers = servers.filter((s) => s !== 'ftpkit').map((s) => values.get(s)).filter((v) => v !== undefined);
    if (peers.length === 0) return 'n/a (no peer)';
    ref = Math.max(...peers);
    ok = fk >= target.factor * ref;
  } else if (target.kind === 'peer') {
    ref = values.get(target.peer);
    if (ref === undefined) return `n/a (no ${target.peer})`;
    ok = fk >= target.factor * ref;
  } else if (target.kind === 'max') {
    ok = fk <= target.value;
  } else {
    ok = fk >= target.value;
  }
  const ratio = ref ? ` (${fmtRatio(fk / ref)}×)` : '';
  return ok ? `met${ratio}` : `MISSED${ratio}`;
}

/** Plain-text table with aligned columns. */
export function renderText(table) {
  const head = ['figure', ...table.servers, 'target', 'result'];
  const body = table.rows.map((r) => [`${r.label} ${r.arrow}`.trim(), ...r.cells, r.target, r.status]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols) => cols.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Markdown table (pasteable into the README "Performance" section). */
export function renderMarkdown(table) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  const head = ['figure', ...table.servers, 'target', 'result'];
  const numeric = (i) => i > 0 && i <= table.servers.length;
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (numeric(i) ? ' ---: ' : ' --- ')).join('|')}|`];
  for (const r of table.rows) {
    out.push(`| ${[`${r.label} ${r.arrow}`.trim(), ...r.cells, r.target, r.status ? (r.status.startsWith('MISSED') ? `**${r.status}**` : r.status) : ''].map(esc).join(' | ')} |`);
  }
  return out.join('\n');
}
