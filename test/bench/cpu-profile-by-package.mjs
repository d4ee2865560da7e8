// Self time of a .cpuprofile (node --cpu-prof) grouped by where it runs: each npm package, Node's own
// modules by area (http, fs, streams, timers), V8's GC and its other pseudo-frames, the script itself.
// With --top N, the N heaviest functions too. Used to read where the many-syncs floor's CPU goes.
//   usage: node cpu-profile-by-package.mjs <file.cpuprofile> [--top N]
import { readFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
const topIndex = process.argv.indexOf('--top');
const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 0;
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Node's own modules by what they do: enough to tell the HTTP client from file writes and timers.
const NODE_AREAS = [
  [/^node:(_http|http|https|net|dns|internal\/(http|dns|net|stream_base|tls|url))/, 'node: http/net'],
  [/^node:(fs|internal\/fs)/, 'node: fs'],
  [/^node:(stream|internal\/streams)/, 'node: streams'],
  [/^node:(timers|internal\/timers)/, 'node: timers'],
  [/^node:(events|internal\/event_target)/, 'node: events'],
  [/^node:(zlib|buffer|internal\/buffer)/, 'node: buffer'],
  [/^node:internal\/(process\/task_queues|async_hooks|process\/promises)/, 'node: microtasks/async'],
];

function groupOf(node) {
  const { url, functionName } = node.callFrame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return '(program: V8/native outside JS)';
    if (functionName === 'parse' || functionName === 'stringify') return `JSON.${functionName} (native)`;
    return `native: ${functionName || '(anonymous)'}`;
  }
  const inModules = url.lastIndexOf('/node_modules/');
  if (inModules >= 0) {
    const rest = url.slice(inModules + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) {
    for (const [pattern, area] of NODE_AREAS) if (pattern.test(url)) return area;
    return 'node: other';
  }
  return `script: ${url.slice(url.lastIndexOf('/') + 1)}`;
}

// Self time: each sample is charged to the node it landed in, for the time until the next sample.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
}
const groups = new Map();
const functions = new Map();
let busy = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id);
  const group = groupOf(node);
  groups.set(group, (groups.get(group) ?? 0) + us);
  if (group !== '(idle)') busy += us;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.slice(url.lastIndexOf('node_modules/') + 1 || 0)}:${lineNumber + 1} [${group}]`;
  functions.set(key, (functions.get(key) ?? 0) + us);
}
const total = profile.endTime - profile.startTime;
console.log(
  `profile ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${((busy / total) * 100).toFixed(0)}% of one thread)`,
);
const rows = [...groups].filter(([g]) => g !== '(idle)').sort((a, b) => b[1] - a[1]);
for (const [group, us] of rows)
  console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${group}`);
if (top > 0) {
  console.log(`\nthe ${top} heaviest functions (self time, % of busy):`);
  const heaviest = [...functions].filter(([k]) => !k.endsWith('[(idle)]')).sort((a, b) => b[1] - a[1]);
  for (const [key, us] of heaviest.slice(0, top)) console.log(`${((us / busy) * 100).toFixed(1).padStart(5)}%  ${key}`);
}
