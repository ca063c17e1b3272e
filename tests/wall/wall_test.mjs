// Drives the status wall in headless Chromium; run by run_wall_test.sh, which owns the
// monitor and simulator processes. Exits non-zero with the reason on the first failure.
//
//   node wall_test.mjs --case live|demo|scale --url URL --chromium PATH --profile DIR
//                      --artifacts DIR [--control HOST:PORT --members A,B --monitor-pid PID]
//                      [--expect-links N]
import net from 'node:net';
import path from 'node:path';
import {chromium} from 'playwright-core';

const kRedBudgetMs = 1000;  // the wall must show a dead link within a second
const kViewport = {width: 1920, height: 1080};

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];

function fail(message) {
  throw new Error(message);
}
function log(message) {
  console.log(`wall[${args.case}]: ${message}`);
}

// Polls `probe` until it returns a truthy value; fails with `what` after the deadline.
async function waitFor(what, timeoutMs, probe, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() >= deadline) fail(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function api(p, init) {
  const r = await fetch(args.url + p, init);
  if (!r.ok) fail(`${p}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

// Sends one control line to the simulator and returns its answer (ends with ok... or error...).
function control(line, timeoutMs = 3000) {
  const [host, port] = args.control.split(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`control '${line}': no answer within ${timeoutMs} ms (got '${answer}')`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(line + '\n'));
    socket.on('data', (chunk) => {
      answer += chunk;
      const last = answer.split('\n').find((l) => /^(ok|error)/.test(l));
      if (!last) return;
      clearTimeout(timer);
      socket.end();
      if (last.startsWith('error')) reject(new Error(`control '${line}': ${answer.trim()}`));
      else resolve(answer.trim());
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function openWall() {
  const context = await chromium.launchPersistentContext(args.profile, {
    executablePath: args.chromium,
    headless: true,
    viewport: kViewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  const watch = {consoleErrors: true};
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && watch.consoleErrors) problems.push(`console error: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog opened (${d.type()}: ${d.message()}): markup from the API was executed`);
    d.dismiss().catch(() => {});
  });
  const started = Date.now();
  await page.goto(args.url + '/', {waitUntil: 'load'});
  return {context, page, problems, watch, started};
}

function checkProblems(problems) {
  if (problems.length) fail(problems.join('\n'));
}

const tileStates = (page) =>
  page.$$eval('#grid .light', (ts) => ts.map((t) => [t.dataset.member, t.dataset.state]));

// "rgb(r, g, b)" -> which channel dominates
const dominant = (css) => {
  const [r, g, b] = css.match(/\d+/g).map(Number);
  return r > g && r > b ? 'red' : g > r && g > b ? 'green' : b > r && b > g ? 'blue' : 'other';
};

async function caseLive() {
  const members = args.members.split(',');
  const t0 = Date.now();
  await waitFor('every member up in /api/v1/links', 20000, async () => {
    const links = await api('/api/v1/links');
    return members.every((m) => links.some((l) => l.member === m && l.state === 'up'));
  });
  log(`all ${members.length} members up after ${Date.now() - t0} ms`);

  const {context, page, problems, watch} = await openWall();
  try {
    await page.waitForFunction(
        (ms) => ms.every((m) => document.querySelector(`#grid .light[data-member="${m}"]`)
                                    ?.dataset.state === 'up'),
        members, {timeout: 5000});
    const colours = await page.$$eval('#grid .light', (ts) =>
        ts.map((t) => [t.dataset.member, getComputedStyle(t).backgroundColor,
                       getComputedStyle(t).borderLeftColor]));
    for (const [m, bg, border] of colours) {
      if (dominant(bg) !== 'green' || dominant(border) !== 'green')
        fail(`${m}: expected a green light, background ${bg}, border ${border}`);
    }
    log(`every member has a green light (${colours.length})`);

    // Member names are untrusted configuration: they must arrive as text.
    const injected = await page.evaluate(() => ({
      img: document.querySelectorAll('img').length,
      b: document.querySelectorAll('#grid b, #events b').length,
      scripts: document.querySelectorAll('script').length,
      bank04: document.querySelector('[data-member="BANK04"] .name').textContent,
      bank05: document.querySelector('[data-member="BANK05"] .name').textContent,
    }));
    if (injected.img || injected.b || injected.scripts !== 1)
      fail(`markup from a member name became elements: ${JSON.stringify(injected)}`);
    if (injected.bank04 !== '<img src=x onerror=alert(1)>')
      fail(`BANK04's name rendered as '${injected.bank04}'`);
    if (injected.bank05 !== 'Calder & Rowe "</script><b>bold</b>')
      fail(`BANK05's name rendered as '${injected.bank05}'`);
    log('member names with markup render as text, no element injected');

    // The time in state ticks between polls.
    const age = await page.textContent('[data-member="BANK01"] .age');
    await page.waitForFunction(
        (a) => document.querySelector('[data-member="BANK01"] .age').textContent !== a, age,
        {timeout: 2500});

    // The filter matches name, state and criticality.
    await page.fill('#filter', 'aldgate');
    await page.waitForFunction(() => document.querySelectorAll('#grid .light').length === 1);
    if ((await tileStates(page))[0][0] !== 'BANK02') fail('filter "aldgate" did not keep BANK02');
    await page.fill('#filter', 'critical up');
    await page.waitForFunction(() => document.querySelectorAll('#grid .light').length === 2);
    await page.fill('#filter', '');
    await page.waitForFunction((n) => document.querySelectorAll('#grid .light').length === n,
                               members.length);
    log('filter works (name, criticality + state)');

    // The fault: stamp the first DOM mutation that shows BANK02 down.
    await page.evaluate(() => {
      window.redAt = null;
      const seen = () => {
        const t = document.querySelector('#grid .light[data-member="BANK02"]');
        if (window.redAt === null && t?.dataset.state === 'down') window.redAt = Date.now();
      };
      new MutationObserver(seen).observe(document.getElementById('grid'),
                                         {subtree: true, childList: true, attributes: true});
    });
    const injectedAt = Date.now();
    const answer = await control('fault BANK02 reset');
    const ackMs = Date.now() - injectedAt;
    await page.waitForFunction(() => window.redAt !== null, null, {timeout: 3000, polling: 10});
    const redAt = await page.evaluate(() => window.redAt);
    const shot = path.join(args.artifacts, 'status-wall.png');
    await page.screenshot({path: shot});
    const events = await api('/api/v1/events?member=BANK02&limit=5');
    const down = events.events.find((e) => e.to === 'down');
    const monitorMs = down ? Math.round(down.time_unix * 1000 - injectedAt) : NaN;
    const redMs = redAt - injectedAt;
    log(`fault BANK02 reset (answer '${answer.split('\n').pop()}' after ${ackMs} ms): ` +
        `monitor down after ${monitorMs} ms (${down?.reason}), wall red after ${redMs} ms ` +
        `(budget ${kRedBudgetMs} ms)`);
    log(`screenshot ${shot}`);
    if (redMs > kRedBudgetMs) fail(`BANK02 turned red after ${redMs} ms, budget ${kRedBudgetMs} ms`);

    const red = await page.evaluate(() => {
      const t = document.querySelector('#grid .light[data-member="BANK02"]');
      return {bg: getComputedStyle(t).backgroundColor, first: t === document.querySelector('#grid .light'),
              chip: document.querySelector('.chip.down b').textContent,
              event: document.querySelector('#events li')?.textContent ?? ''};
    });
    if (dominant(red.bg) !== 'red') fail(`BANK02 is down but its light is ${red.bg}`);
    if (!red.first) fail('BANK02 is down but not the first light (worst first)');
    if (red.chip !== '1') fail(`the down counter shows ${red.chip}, expected 1`);
    if (!/BANK02.*down/.test(red.event)) fail(`newest event is '${red.event}', expected BANK02 -> down`);

    // The member reconnects after the simulator's reconnect delay (1 s).
    await page.waitForFunction(
        () => document.querySelector('#grid .light[data-member="BANK02"]')?.dataset.state === 'up',
        null, {timeout: 8000});
    log('BANK02 back up on the wall after its reconnect');

    // The monitor goes away: the wall must say so rather than show old lights as current.
    watch.consoleErrors = false;  // failed fetches are logged by Chromium from here on
    process.kill(Number(args['monitor-pid']), 'SIGTERM');
    const staleAt = Date.now();
    await page.waitForFunction(() => document.body.classList.contains('stale'), null,
                               {timeout: 4000});
    log(`stale indicator shown ${Date.now() - staleAt} ms after the monitor stopped: ` +
        `'${await page.textContent('#live')}'`);
    checkProblems(problems);
  } finally {
    await context.close();
  }
}

async function caseDemo() {
  const {context, page, problems, started} = await openWall();
  try {
    await page.waitForFunction(() => document.querySelectorAll('#grid .light').length === 50,
                               null, {timeout: 10000});
    // Several polls (the demo injects faults all along): errors would show up by now.
    await page.waitForFunction(() => Number(document.documentElement.dataset.polls) >= 6, null,
                               {timeout: 10000});
    const view = await page.evaluate(() => {
      const rank = {down: 0, degraded: 1, maintenance: 2, offhours: 3, up: 4};
      const states = [...document.querySelectorAll('#grid .light')].map((t) => t.dataset.state);
      const chips = [...document.querySelectorAll('.chip')].map((c) => Number(c.firstChild.textContent));
      return {sorted: states.every((s, i) => i === 0 || rank[states[i - 1]] <= rank[s]),
              states: states.join(' '), total: chips.reduce((a, b) => a + b, 0),
              events: document.querySelectorAll('#events li').length};
    });
    if (!view.sorted) fail(`lights are not worst first: ${view.states}`);
    if (view.total !== 50) fail(`state counters add up to ${view.total}, expected 50`);
    const shot = path.join(args.artifacts, 'status-wall-demo.png');
    await page.screenshot({path: shot});
    checkProblems(problems);
    log(`50 members, worst first, ${view.events} events, no JS error in ${Date.now() - started} ms`);
    log(`screenshot ${shot}`);
  } finally {
    await context.close();
  }
}

async function caseScale() {
  const expected = Number(args['expect-links']);
  const up = Number(args['expect-up'] ?? 0);
  const t0 = Date.now();
  await waitFor(`${expected} links in the API, ${up} of them up`, 20000, async () => {
    const links = await api('/api/v1/links');
    return links.length === expected && links.filter((l) => l.state === 'up').length >= up;
  }, 200);
  log(`${expected} links, ${up} simulated members up after ${Date.now() - t0} ms`);
  const maintenance = ['M004', 'M129', 'M130', 'M277', 'M388', 'M451'];
  for (const m of maintenance) {
    await api(`/api/v1/links/${m}/maintenance`, {method: 'POST', body: '{"duration_seconds": 3600}'});
  }
  const {context, page, problems} = await openWall();
  try {
    await page.waitForFunction(
        (n) => document.querySelectorAll('#grid .light').length === n &&
               document.querySelectorAll('#grid .light.maintenance').length === 6,
        expected, {timeout: 10000});
    const fit = await page.evaluate(() => {
      const ts = [...document.querySelectorAll('#grid .light')];
      const wall = document.getElementById('wall');
      const rects = ts.map((t) => t.getBoundingClientRect());
      return {bottom: Math.max(...rects.map((r) => r.bottom)), height: window.innerHeight,
              scroll: wall.scrollHeight - wall.clientHeight,
              minWidth: Math.min(...rects.map((r) => r.width)),
              minHeight: Math.min(...rects.map((r) => r.height)),
              font: parseFloat(getComputedStyle(ts[0].querySelector('.name')).fontSize)};
    });
    log(`500 lights: smallest ${fit.minWidth.toFixed(0)}x${fit.minHeight.toFixed(0)} px, name ` +
        `${fit.font}px, lowest edge ${fit.bottom.toFixed(0)} of ${fit.height} px`);
    if (fit.bottom > fit.height || fit.scroll > 0) fail('500 lights do not fit one 1920x1080 screen');
    if (fit.minWidth < 80 || fit.minHeight < 24 || fit.font < 10)
      fail(`lights too small to read: ${JSON.stringify(fit)}`);
    const shot = path.join(args.artifacts, 'status-wall-500.png');
    await page.screenshot({path: shot});
    checkProblems(problems);
    log(`screenshot ${shot}`);
  } finally {
    await context.close();
  }
}

const cases = {live: caseLive, demo: caseDemo, scale: caseScale};
try {
  if (!cases[args.case]) fail(`unknown --case ${args.case}`);
  await cases[args.case]();
} catch (e) {
  console.error(`wall[${args.case}]: FAIL: ${e.message}`);
  process.exit(1);
}
