import { startTestPostgres } from './postgres-test-server.ts';
const t = await startTestPostgres();
const url = await t.database();
console.log(url);
process.on('SIGTERM', async () => { await t.stop(); process.exit(0); });
setInterval(() => {}, 1000);
