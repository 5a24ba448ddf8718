import { chromium } from 'playwright-core';
const [url] = process.argv.slice(2);
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
const p = await b.newPage({ viewport: { width: 1600, height: 1000 } });
p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('console', m.type(), m.text().slice(0, 300)); });
p.on('pageerror', (e) => console.log('pageerror', e.message.slice(0, 300)));
await p.goto(url);
await p.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
await p.click('#tab-pipeline');
for (let i = 0; i < 3; i++) {
  await new Promise((r) => setTimeout(r, 10000));
  const t0 = Date.now();
  const s = await p.evaluate(() => ({
    nodes: document.querySelectorAll('#topology g.node').length,
    cases: [...document.querySelectorAll('#acceptance-cases .case')].map((c) => c.getAttribute('data-node') + ':' + c.getAttribute('data-stage')).join(','),
    status: document.querySelector('#header')?.textContent?.slice(0, 120),
    ev: document.querySelector("#pipeline")?.textContent?.slice(0, 200), asking: 1,
  }));
  console.log(new Date().toISOString().slice(11, 19), 'eval ms', Date.now() - t0, JSON.stringify(s));
}
await b.close();
