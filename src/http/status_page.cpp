#include "http/status_page.hpp"

namespace linkwatch {
namespace {

// The whole wall is one constant so that `/` needs no file system and no external asset: a
// desk screen must keep working when the monitor host has no route to a CDN.
//
// Every string the page shows comes from the JSON API and is inserted with textContent,
// never innerHTML: member names are configuration, not markup.
//
// Layout: problems sort first (down, degraded, unknown, maintenance, offhours, up) and healthy
// tiles
// are muted so that red is what the eye finds; the tile size is computed from the member
// count and the free area, so that 500 members fit one 1920x1080 screen.
constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>linkwatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>
:root{--bg:#0a0d12;--panel:#11161e;--line:#1e2632;--text:#d9dfe8;--dim:#7b8594;
  --up:#2ecc71;--degraded:#f5a623;--down:#ff3b4e;--offhours:#6b7480;--maintenance:#3d8bfd;--unknown:#8f8fd6;
  --th:58px;--fn:15px;--fm:12px}
*{box-sizing:border-box}
html,body{height:100%;margin:0}
body{display:flex;flex-direction:column;background:var(--bg);color:var(--text);overflow:hidden;
  font:13px/1.25 system-ui,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
header{display:flex;align-items:center;gap:18px;padding:8px 14px;background:var(--panel);
  border-bottom:1px solid var(--line)}
.brand{display:flex;align-items:baseline;gap:8px;white-space:nowrap}
.brand b{font-size:18px;letter-spacing:.5px}.brand span{color:var(--dim);font-size:12px}
#counts{display:flex;gap:6px;flex:1}
.chip{display:flex;align-items:baseline;gap:6px;padding:3px 10px;border:1px solid var(--line);
  border-radius:4px;background:#151b24;color:var(--dim);font:inherit;cursor:pointer}
.chip b{font-size:22px;font-variant-numeric:tabular-nums;color:var(--text)}
.chip i{font-style:normal;font-size:11px;text-transform:uppercase;letter-spacing:.8px}
.chip.zero{opacity:.45}.chip.on{outline:1px solid var(--text)}
.chip.up b{color:var(--up)}.chip.degraded b{color:var(--degraded)}
.chip.maintenance b{color:var(--maintenance)}.chip.unknown b{color:var(--unknown)}.chip.offhours b{color:#9aa3ae}
.chip.down:not(.zero){background:var(--down);border-color:var(--down);color:#fff}
.chip.down:not(.zero) b{color:#fff}
#filter{width:280px;padding:6px 9px;border:1px solid #2a3442;border-radius:4px;background:#0c1016;
  color:var(--text);font:inherit}
#filter:focus{outline:1px solid var(--maintenance)}
#shown{color:var(--dim);font-size:12px;min-width:70px}
#clock{font:600 15px ui-monospace,"DejaVu Sans Mono",monospace;color:var(--dim)}
#live{padding:3px 9px;border-radius:4px;font-size:11px;font-weight:700;letter-spacing:1px;
  background:#123322;color:var(--up);white-space:nowrap}
#live::before{content:"\25CF  "}
.stale #live{background:var(--down);color:#fff;animation:blink 1s steps(2) infinite}
main{display:flex;flex:1;min-height:0}
#wall{flex:1;min-width:0;padding:8px;overflow:auto}
.stale #wall{filter:grayscale(.8) brightness(.7)}
#grid{display:grid;gap:4px;grid-auto-rows:var(--th);grid-auto-flow:row dense}
.light{display:flex;flex-direction:column;justify-content:center;min-width:0;padding:0 7px;
  border-radius:3px;border-left:3px solid;background:#1a212b;overflow:hidden}
.name{font-size:var(--fn);font-weight:650;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row{display:flex;gap:6px;align-items:baseline;min-width:0;font-size:var(--fm);margin-top:1px}
.what{flex:1;min-width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;opacity:.9}
.st{font-weight:700;text-transform:uppercase;font-size:.92em;letter-spacing:.3px}
.id,.age{font-family:ui-monospace,"DejaVu Sans Mono",monospace;white-space:nowrap}
.id{font-weight:700}.age{opacity:.85}
.critical .name::before{content:"\25C6\00a0";font-size:.75em;vertical-align:.1em}
.test{border-left-style:dashed}
.light.up{background:#0f2c1d;border-color:var(--up);color:#bfe8cf}
.light.degraded{background:var(--degraded);border-color:#ffd27a;color:#1d1300}
.light.down{background:var(--down);border-color:#fff;color:#fff;box-shadow:0 0 10px #ff3b4e80}
.light.maintenance{background:#15305a;border-color:var(--maintenance);color:#d3e4ff}
.light.offhours{background:#1a1f26;border-color:var(--offhours);color:#939ca8}
.light.unknown{background:#1d1d36;border:1px dashed var(--unknown);color:#c9c9f2}
.span{grid-column:span 2}
.dense .light{padding:0 4px 0 5px;border-left-width:2px}
.dense .row{gap:4px}.dense .light.up .rs{display:none}
#empty{color:var(--dim);padding:30px;font-size:16px}
aside{width:340px;display:flex;flex-direction:column;background:var(--panel);
  border-left:1px solid var(--line)}
aside h2{margin:0;padding:10px 12px 8px;font-size:11px;font-weight:700;letter-spacing:1.2px;
  text-transform:uppercase;color:var(--dim);border-bottom:1px solid var(--line)}
#events{list-style:none;margin:0;padding:0;overflow:auto;flex:1}
#events li{padding:5px 12px;border-bottom:1px solid #161d27;border-left:3px solid transparent}
#events li.fresh{background:#18202b}
#events .l1{display:flex;gap:8px;align-items:baseline}
#events .t{font:11px ui-monospace,"DejaVu Sans Mono",monospace;color:var(--dim)}
#events .m{font:600 12px ui-monospace,"DejaVu Sans Mono",monospace}
#events .n{color:var(--dim);font-size:11px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#events .l2{font-size:12px;margin-top:1px}
.s{font-weight:700;text-transform:uppercase;font-size:10.5px;letter-spacing:.5px}
.s.up{color:var(--up)}.s.degraded{color:var(--degraded)}.s.down{color:var(--down)}
.s.offhours{color:#9aa3ae}.s.maintenance{color:#7fb2ff}.s.unknown{color:#b4b4ee}
#events li.to-down{border-left-color:var(--down)}#events li.to-degraded{border-left-color:var(--degraded)}
#events li.to-up{border-left-color:#1e6b41}
#events .r{color:var(--dim)}
@keyframes blink{50%{opacity:.55}}
</style></head><body>
<header>
  <div class="brand"><b>linkwatch</b><span>FIX member links</span></div>
  <div id="counts"></div>
  <input id="filter" type="search" placeholder="filter: member, name, state, reason"
    autocomplete="off" spellcheck="false">
  <span id="shown"></span><span id="live">CONNECTING</span><span id="clock"></span>
</header>
<main>
  <section id="wall"><div id="grid"></div><div id="empty" hidden></div></section>
  <aside><h2>Recent transitions</h2><ol id="events"></ol></aside>
</main>
<script>
'use strict';
const POLL_MS = 500, STALE_MS = 1500, FETCH_TIMEOUT_MS = 2000, EVENT_LIMIT = 60;
// unknown: restored from the journal after a restart, not yet re-observed (never a stale green).
const ORDER = {down: 0, degraded: 1, unknown: 2, maintenance: 3, offhours: 4, up: 5};
const CRITICALITY = {critical: 0, standard: 1, test: 2};
// Tile height, minimum width, name and meta font size; the first that fits the area wins.
const LEVELS = [[74, 230, 18, 13], [58, 190, 15, 12], [44, 145, 13, 11], [34, 110, 11.5, 10],
                [27, 84, 10.5, 9.5]];
const MAX_TILE_WIDTH = 260, GAP = 4;
const $ = (id) => document.getElementById(id);
const grid = $('grid'), wall = $('wall'), filter = $('filter');
const tiles = new Map();  // member -> tile element, reused across polls
let links = [], lastOk = 0, polls = 0, skew = 0, eventsKey = '';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
const known = (table, key) => Object.prototype.hasOwnProperty.call(table, key);
const now = () => Date.now() / 1000 + skew;
const pad = (n) => String(n).padStart(2, '0');
function duration(s) {
  s = Math.max(0, Math.floor(s));
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + pad(s % 60) + 's';
  if (s < 86400) return Math.floor(s / 3600) + 'h' + pad(Math.floor(s / 60) % 60) + 'm';
  return Math.floor(s / 86400) + 'd' + pad(Math.floor(s / 3600) % 24) + 'h';
}
function utc(t, ms) {
  const d = new Date(t * 1000);
  const s = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
  return ms ? s + '.' + String(d.getUTCMilliseconds()).padStart(3, '0') : s;
}

function makeTile(member) {
  const t = el('div', 'light');
  t.dataset.member = member;
  t.f = {name: el('div', 'name'), id: el('span', 'id'), state: el('span', 'st'),
         reason: el('span', 'rs'), age: el('span', 'age'), row: el('div', 'row')};
  const what = el('span', 'what');
  what.append(t.f.state, t.f.reason);
  t.f.row.append(t.f.id, what, t.f.age);
  t.append(t.f.name, t.f.row);
  return t;
}

function updateTile(t, l) {
  const key = [l.state, l.reason, l.name, l.criticality, l.since_unix, l.maintenance_until].join('\n');
  if (t.key === key) return;
  if (t.key !== undefined && t.dataset.state !== l.state) {
    t.animate([{outline: '3px solid #fff'}, {outline: '3px solid transparent'}],
              {duration: 2500, easing: 'ease-out'});
  }
  t.key = key;
  t.since = l.since_unix;
  t.dataset.state = l.state;
  t.className = 'light' + (known(ORDER, l.state) ? ' ' + l.state : '') +
                (known(CRITICALITY, l.criticality) ? ' ' + l.criticality : '');
  t.f.name.textContent = l.name || l.member;
  t.f.id.textContent = l.member;
  t.f.state.textContent = l.state;
  let reason = ' \u00b7 ' + l.reason;
  if (l.state === 'maintenance' && l.maintenance_until) reason += ' until ' + l.maintenance_until.slice(11, 16);
  if (l.state === 'unknown' && l.last_known_state) reason += ', was ' + l.last_known_state;
  t.f.reason.textContent = reason;
  t.title = l.member + ' \u2014 ' + (l.name || '') + '\n' + l.session + ' (' + l.connection_type +
            ', ' + l.criticality + ')\n' + l.state + ': ' + l.reason + ' since ' + l.since +
            '\nHeartBtInt ' + l.heartbeat_interval_seconds + 's, flaps ' + l.flaps_in_window +
            (l.last_rtt_seconds != null ? ', RTT ' + (l.last_rtt_seconds * 1000).toFixed(1) + ' ms' : '');
  t.age = undefined;
}

// Picks the largest tile size at which `n` tiles (`wide` of them counted twice when they span
// two columns) fit the visible wall, and sets the grid's columns so that the width is used.
function layout(n, wide) {
  const g = GAP, w = wall.clientWidth - 16, h = wall.clientHeight - 16;
  const candidates = [];
  for (const lv of LEVELS) {
    if (lv[0] < 40) candidates.push([lv, true]);
    candidates.push([lv, false]);
  }
  let pick = candidates[candidates.length - 1], cols = 1;
  for (const c of candidates) {
    const [th, minWidth] = c[0];
    const units = n + (c[1] ? wide : 0);
    const rows = Math.max(1, Math.floor((h + g) / (th + g)));
    cols = Math.max(1, Math.ceil(units / rows), Math.floor((w + g) / (MAX_TILE_WIDTH + g)));
    if ((w + g) / cols - g >= minWidth) { pick = c; break; }
  }
  const [th, minWidth, fn, fm] = pick[0];
  cols = Math.max(1, Math.min(cols, Math.floor((w + g) / (minWidth + g))));
  grid.style.setProperty('--th', th + 'px');
  grid.style.setProperty('--fn', fn + 'px');
  grid.style.setProperty('--fm', fm + 'px');
  grid.style.gridTemplateColumns = 'repeat(' + cols + ', minmax(0, 1fr))';
  grid.classList.toggle('dense', th < 40);
  return pick[1];
}

function matches(l, terms) {
  if (!terms.length) return true;
  const hay = [l.member, l.name, l.state, l.reason, l.criticality].join('\n').toLowerCase();
  return terms.every((t) => hay.includes(t));
}

function render() {
  const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  const counts = {down: 0, degraded: 0, unknown: 0, maintenance: 0, offhours: 0, up: 0};
  const rank = (table, k) => (known(table, k) ? table[k] : 9);
  const sorted = links.slice().sort((a, b) =>
      rank(ORDER, a.state) - rank(ORDER, b.state) ||
      rank(CRITICALITY, a.criticality) - rank(CRITICALITY, b.criticality) ||
      (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  const shown = [], seen = new Set();
  for (const l of sorted) {
    if (known(counts, l.state)) counts[l.state]++;
    seen.add(l.member);
    let t = tiles.get(l.member);
    if (!t) tiles.set(l.member, (t = makeTile(l.member)));
    updateTile(t, l);
    if (matches(l, terms)) shown.push(t);
  }
  for (const m of [...tiles.keys()]) if (!seen.has(m)) tiles.delete(m);
  // Down and degraded lights get two columns on a dense wall, so their reason stays readable.
  const alarming = (t) => t.dataset.state === 'down' || t.dataset.state === 'degraded';
  const span = layout(shown.length, shown.filter(alarming).length);
  for (const t of shown) t.classList.toggle('span', span && alarming(t));
  const current = grid.children;
  if (current.length !== shown.length || shown.some((t, i) => current[i] !== t)) {
    grid.replaceChildren(...shown);
  }
  $('empty').hidden = shown.length > 0;
  $('empty').textContent = links.length ? 'No member matches \u201c' + filter.value + '\u201d' : 'No links configured';
  $('shown').textContent = terms.length ? shown.length + ' of ' + links.length : links.length + ' links';
  renderCounts(counts);
  tick();
}

function renderCounts(counts) {
  const box = $('counts');
  if (!box.children.length) {
    for (const s of Object.keys(counts)) {
      const b = el('button', 'chip ' + s);
      b.dataset.state = s;
      b.append(el('b', '', '0'), el('i', '', s));
      b.addEventListener('click', () => setFilter(filter.value === s ? '' : s));
      box.append(b);
    }
  }
  for (const b of box.children) {
    const n = counts[b.dataset.state];
    b.firstChild.textContent = n;
    b.classList.toggle('zero', n === 0);
    b.classList.toggle('on', filter.value === b.dataset.state);
  }
  const bad = counts.down + counts.degraded;
  document.title = (bad ? '(' + counts.down + ' down, ' + counts.degraded + ' degraded) ' : '') + 'linkwatch';
}

function renderEvents(events) {
  const key = events.length ? events[0].time_unix + '/' + events.length : '';
  if (key === eventsKey) return markFresh();
  eventsKey = key;
  const names = new Map(links.map((l) => [l.member, l.name]));
  const items = events.map((e) => {
    const li = el('li', known(ORDER, e.to) ? 'to-' + e.to : '');
    li.t = e.time_unix;
    const l1 = el('div', 'l1'), l2 = el('div', 'l2');
    l1.append(el('span', 't', utc(e.time_unix, true)), el('span', 'm', e.member),
              el('span', 'n', names.get(e.member) || ''));
    l2.append(el('span', 's ' + (known(ORDER, e.from) ? e.from : ''), e.from), ' \u2192 ',
              el('span', 's ' + (known(ORDER, e.to) ? e.to : ''), e.to), ' ',
              el('span', 'r', e.reason));
    li.append(l1, l2);
    return li;
  });
  $('events').replaceChildren(...items);
  markFresh();
}
function markFresh() {
  for (const li of $('events').children) li.classList.toggle('fresh', now() - li.t < 10);
}

// Ticks the time-in-state of every tile and the staleness indicator between polls.
function tick() {
  const t = now();
  for (const tile of grid.children) {
    const s = tile.since != null ? duration(t - tile.since) : '\u2014';
    if (tile.age !== s) tile.f.age.textContent = tile.age = s;
  }
  $('clock').textContent = utc(t) + ' UTC';
  const age = Date.now() - lastOk;
  const stale = age > STALE_MS;
  document.body.classList.toggle('stale', stale);
  $('live').textContent = !stale ? 'LIVE'
      : lastOk ? 'STALE ' + duration(age / 1000) + ' \u2014 monitor unreachable' : 'NO DATA \u2014 monitor unreachable';
}

async function getJson(url) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS);
  try {
    const r = await fetch(url, {cache: 'no-store', signal: abort.signal});
    if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
    return {body: await r.json(), date: Date.parse(r.headers.get('Date') || '')};
  } finally {
    clearTimeout(timer);
  }
}

async function poll() {
  const started = Date.now();
  let l, e;
  try {
    [l, e] = await Promise.all([getJson('/api/v1/links'),
                                getJson('/api/v1/events?limit=' + EVENT_LIMIT)]);
  } catch (err) {
    l = null;  // the stale indicator shows it; the next poll retries
  }
  // A bug in rendering must surface as a page error, not pass for an unreachable monitor.
  try {
    if (l && Array.isArray(l.body)) {
      // The Date header has one-second resolution: correct only a real clock difference.
      if (l.date) {
        const d = (l.date + 500 - started) / 1000;
        skew = Math.abs(d) > 2 ? d : 0;
      }
      links = l.body;
      lastOk = Date.now();
      document.documentElement.dataset.polls = ++polls;
      render();
      renderEvents(Array.isArray(e.body.events) ? e.body.events : []);
    } else {
      tick();
    }
  } finally {
    setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
  }
}

function setFilter(v) {
  filter.value = v;
  history.replaceState(null, '', v ? '#' + encodeURIComponent(v) : location.pathname);
  render();
}
filter.addEventListener('input', () => setFilter(filter.value));
document.addEventListener('keydown', (e) => {
  if (e.key === '/' && document.activeElement !== filter) { e.preventDefault(); filter.focus(); }
  if (e.key === 'Escape') { setFilter(''); filter.blur(); }
});
window.addEventListener('resize', render);
try { filter.value = decodeURIComponent(location.hash.slice(1)); } catch (e) { filter.value = ''; }
setInterval(tick, 250);
poll();
</script></body></html>
)HTML";

}  // namespace

std::string_view statusPageHtml() noexcept { return kPage; }

}  // namespace linkwatch
