import { register } from 'tsx/esm/api';
register();
const { main } = await import('/work/main/apps/cli/src/main.ts');
const code = await main(['node','cpnet','node','start','--port','0','--role','national','--code','CPN','--data',process.argv[2],'--log-level','warn']);
console.log('main returned', code);
setTimeout(() => { console.log('handles', process._getActiveHandles().map(h=>h.constructor.name)); }, 500).unref();
process.on('exit', (c) => console.log('exit', c, new Error().stack));
