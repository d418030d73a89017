// Reading `node --cpu-prof` output: self time per function (name + file:line), summed over
// one or more .cpuprofile files, so the report can say which frames dominate a test.
import fs from 'node:fs';
import path from 'node:path';

function frameName(cf, repoDir) {
  const url = cf.url ? cf.url.replace(/^file:\/\//, '') : '';
  const file = url ? (url.startsWith(repoDir) ? path.relative(repoDir, url) : url.replace(/^.*node_modules\//, '')) : '';
  const fn = cf.functionName || (file ? '(anonymous)' : '');
  if (!file) return fn || '(native)';
  return `${fn} ${file}:${cf.lineNumber + 1}`;
}

/** Self time (ms) per frame over the given profiles, highest first. */
export function selfTimes(files, repoDir) {
  const totals = new Map();
  let all = 0;
  for (const file of files) {
    const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const dt = prof.timeDeltas ?? [];
    for (let i = 0; i < (prof.samples ?? []).length; i++) {
      const node = byId.get(prof.samples[i]);
      const ms = (dt[i] ?? 0) / 1000;
      if (!node || ms < 0) continue;
      const key = frameName(node.callFrame, repoDir);
      totals.set(key, (totals.get(key) ?? 0) + ms);
      all += ms;
    }
  }
  const rows = [...totals].map(([frame, ms]) => ({ frame, ms, share: all > 0 ? ms / all : 0 })).sort((a, b) => b.ms - a.ms);
  return { totalMs: all, rows };
}

/** The .cpuprofile files under a folder. */
export function profilesIn(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
}

/** "  12.3%  name file:line" lines for the top `n` frames, idle and GC included. */
export function formatTop(result, n = 10) {
  return result.rows.slice(0, n).map((r) => `${(r.share * 100).toFixed(1).padStart(6)}%  ${r.frame}`).join('\n');
}
