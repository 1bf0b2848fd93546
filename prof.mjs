import { createBenchCgroups } from './dist/bench/fixture.js';
import { Collector } from './dist/src/model/collector.js';
const f = await createBenchCgroups(1000);
const c = new Collector({ watch: true, rescanIntervalMs: 3600000, settingsRefreshMs: 3600000 });
for (let i=0;i<5;i++) c.collect();
const { Session } = await import('node:inspector/promises');
const s = new Session(); s.connect();
await s.post('Profiler.enable'); await s.post('Profiler.setSamplingInterval', { interval: 50 }); await s.post('Profiler.start');
const t0 = performance.now();
for (let i=0;i<40;i++) c.collect();
const ms = (performance.now()-t0)/40;
const { profile } = await s.post('Profiler.stop');
const self = new Map(); const total = profile.samples.length;
const byId = new Map(profile.nodes.map(n => [n.id, n]));
const counts = new Map(); for (const id of profile.samples) counts.set(id, (counts.get(id)||0)+1);
for (const [id, n] of counts) { const node = byId.get(id); const k = node.callFrame.functionName + ' ' + node.callFrame.url.split('/').slice(-2).join('/') + ':' + node.callFrame.lineNumber; self.set(k, (self.get(k)||0)+n); }
console.log('ms/tick', ms.toFixed(1));
console.log([...self.entries()].sort((a,b)=>b[1]-a[1]).slice(0,30).map(([k,v])=>`${(ms*v/total).toFixed(2)}ms ${k}`).join('\n'));
c.close(); await f.cleanup();
