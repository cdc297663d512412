import { startCluster, ask } from './test/support/redis-deploy.js';
const c = await startCluster();
const port = Number(c.rootNodes[0]!.url.split(':')[2]);
let t = Date.now();
console.log(await c.failOver('planet-auth:{.planet/a}/token.json'), Date.now() - t);
t = Date.now();
await c.rejoin(); console.log('rejoined', Date.now() - t);
console.log(String(await ask(port, 'CLUSTER', 'NODES')));
t = Date.now();
try { console.log(await c.failOver('planet-auth:{.planet/a}/token.json'), Date.now() - t); } catch (e) { console.log(String(e)); 
for (const p of [port]) console.log(String(await ask(p, 'CLUSTER', 'NODES'))); }
await c.stop();
