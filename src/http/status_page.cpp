#include "http/status_page.hpp"

namespace linkwatch {
namespace {

// Everything the page shows comes from the JSON API and is inserted with textContent,
// never innerHTML: member names are configuration, not markup.
constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>linkwatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#111;color:#ddd}
header{display:flex;gap:1em;align-items:center;padding:.5em 1em;background:#1b1b1b}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:4px;padding:8px}
.light{padding:4px 6px;border-radius:4px;font-size:12px;line-height:1.3;color:#000}
.up{background:#56a64b}.degraded{background:#ff9830}.down{background:#e02f44;color:#fff}
.offhours{background:#888}.maintenance{background:#3274d9;color:#fff}
.name{font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#events{font-size:12px;padding:0 1em}
</style></head><body>
<header><strong>linkwatch</strong><input id="filter" placeholder="filter"><span id="counts"></span></header>
<div id="grid"></div><div id="events"></div>
<script>
const order={down:0,degraded:1,maintenance:2,offhours:3,up:4};
function ago(t){const s=Math.max(0,(Date.now()/1000-t)|0);return s<60?s+'s':s<3600?((s/60)|0)+'m':((s/3600)|0)+'h';}
async function refresh(){
  try{
    const links=await (await fetch('/api/v1/links')).json();
    const f=document.getElementById('filter').value.toLowerCase();
    links.sort((a,b)=>order[a.state]-order[b.state]||a.member.localeCompare(b.member));
    const grid=document.getElementById('grid');grid.replaceChildren();
    const counts={};
    for(const l of links){
      counts[l.state]=(counts[l.state]||0)+1;
      if(f&&!(l.member+' '+l.name+' '+l.state+' '+l.reason).toLowerCase().includes(f))continue;
      const d=document.createElement('div');d.className='light '+l.state;d.dataset.member=l.member;
      const n=document.createElement('div');n.className='name';n.textContent=l.name;
      const r=document.createElement('div');r.textContent=l.member+' '+l.state+' '+l.reason+' '+ago(l.since_unix);
      d.append(n,r);grid.append(d);
    }
    document.getElementById('counts').textContent=Object.entries(counts).map(([k,v])=>k+' '+v).join(' · ');
    const ev=await (await fetch('/api/v1/events?limit=20')).json();
    const e=document.getElementById('events');e.replaceChildren();
    for(const x of ev.events){const p=document.createElement('div');p.textContent=x.time+' '+x.member+' '+x.from+' → '+x.to+' ('+x.reason+')';e.append(p);}
  }catch(err){document.getElementById('counts').textContent='monitor unreachable';}
}
refresh();setInterval(refresh,1000);
document.getElementById('filter').addEventListener('input',refresh);
</script></body></html>
)HTML";

}  // namespace

std::string_view statusPageHtml() noexcept { return kPage; }

}  // namespace linkwatch
