/**
 * The dashboard's page: one self-contained HTML document (inline style and script, no external
 * resource, so it works offline). It follows `/events` (server-sent events, one JSON snapshot
 * per second) and redraws: connections (with RTT), the bandwidth chart (a canvas of per-protocol
 * rates computed from successive cumulative byte counts), the DHT's buckets and recent lookups,
 * GossipSub peers and scores, the log tail and the other metric samples. Every row has a
 * `data-key` (peer id, bucket, ...) for tests and scripts.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ts-libp2p dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:18px;margin:0 0 8px}h2{font-size:14px;margin:16px 0 6px}
table{border-collapse:collapse;width:100%;background:#fff}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;font-family:ui-monospace,monospace;font-size:12px}
th{background:#eee}#status{color:#888}.public{color:#070}.private,.loopback{color:#a60}
pre{background:#fff;border:1px solid #ddd;padding:6px;max-height:300px;overflow:auto;font-size:11px;white-space:pre-wrap}
.none{color:#888}.bar{display:inline-block;height:9px;background:#1f77b4}
canvas{background:#fff;border:1px solid #ddd;width:100%;height:200px}
</style></head><body>
<h1>ts-libp2p <span id="peer-id">...</span></h1><div id="status">connecting...</div>
<h2>Addresses</h2><table id="addrs"><thead><tr><th>address</th><th>reachability</th></tr></thead><tbody></tbody></table>
<h2>Connections (<span id="connection-count">0</span>)</h2>
<table id="connections"><thead><tr><th>peer</th><th>address</th><th>transport</th><th>security</th><th>muxer</th><th>direction</th><th>age s</th><th>RTT ms</th><th>limited</th><th>streams</th><th>protocols</th></tr></thead><tbody></tbody></table>
<h2>Bandwidth by protocol (bytes/s)</h2><canvas id="bandwidth" width="900" height="200"></canvas><div id="legend"></div>
<h2>DHT buckets</h2><div id="dht-none" class="none">no DHT</div>
<table id="dht-buckets"><thead><tr><th>bucket (common prefix)</th><th>peers</th><th>fill</th><th>replacements</th></tr></thead><tbody></tbody></table>
<h2>DHT recent queries</h2>
<table id="dht-queries"><thead><tr><th>when</th><th>type</th><th>key</th><th>duration ms</th><th>outcome</th><th>peers contacted</th><th>failed</th></tr></thead><tbody></tbody></table>
<h2>GossipSub peers</h2><div id="pubsub-none" class="none">no GossipSub</div>
<table id="pubsub-peers"><thead><tr><th>peer</th><th>topics</th><th>mesh</th><th>score</th><th>score parts</th></tr></thead><tbody></tbody></table>
<h2>Log tail</h2><pre id="log"></pre>
<h2>DHT, GossipSub, resources, relay</h2><table id="samples"><thead><tr><th>series</th><th>value</th></tr></thead><tbody></tbody></table>
<script>
const query = new URLSearchParams(location.search)
const token = query.get('token')
const history = []
const HISTORY = 120
const COLORS = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf']
function cell (text, cls) { const td = document.createElement('td'); td.textContent = String(text); if (cls) td.className = cls; return td }
function fill (id, rows) {
  const body = document.querySelector('#' + id + ' tbody')
  body.replaceChildren(...rows.map(([key, cells]) => { const tr = document.createElement('tr'); tr.dataset.key = key; tr.append(...cells); return tr }))
}
function draw () {
  const canvas = document.getElementById('bandwidth')
  const ctx = canvas.getContext('2d')
  ctx.clearRect(0, 0, canvas.width, canvas.height)
  const rates = []
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1], b = history[i], dt = (b.time - a.time) / 1000
    const r = {}
    for (const [p, v] of Object.entries(b.bandwidth)) { const o = a.bandwidth[p] || { in: 0, out: 0 }; r[p] = Math.max(0, (v.in + v.out - o.in - o.out) / dt) }
    rates.push(r)
  }
  const protocols = [...new Set(rates.flatMap(r => Object.keys(r)))]
  const max = Math.max(1, ...rates.flatMap(r => Object.values(r)))
  const drawn = []
  const legend = document.getElementById('legend')
  legend.replaceChildren()
  protocols.forEach((p, j) => {
    ctx.strokeStyle = COLORS[j % COLORS.length]; ctx.lineWidth = 2; ctx.beginPath()
    let nonzero = false
    rates.forEach((r, i) => { const x = (i / (HISTORY - 1)) * canvas.width, y = canvas.height - ((r[p] || 0) / max) * (canvas.height - 10); if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y); if ((r[p] || 0) > 0) nonzero = true })
    ctx.stroke()
    if (nonzero) drawn.push(p)
    const item = document.createElement('span'); item.style.color = ctx.strokeStyle; item.style.marginRight = '12px'; item.textContent = p; legend.append(item)
  })
  // what the chart shows, for tests and scripts: the protocols drawn with a non-zero rate
  canvas.dataset.drawn = JSON.stringify(drawn)
}
function render (s) {
  document.getElementById('peer-id').textContent = s.peerId
  document.getElementById('status').textContent = 'live, ' + new Date(s.time).toLocaleTimeString()
  fill('addrs', s.addrs.map(a => [a.addr, [cell(a.addr), cell(a.reachability, a.reachability)]]))
  document.getElementById('connection-count').textContent = String(s.connections.length)
  fill('connections', s.connections.map(c => [c.peer, [cell(c.peer), cell(c.addr), cell(c.transport), cell(c.security), cell(c.muxer), cell(c.direction), cell(c.ageSeconds), cell(c.rttMs === null ? '-' : c.rttMs), cell(c.limited ? 'yes' : 'no'), cell(c.streams), cell(c.protocols.join(' '))]]))
  const dht = s.dht
  document.getElementById('dht-none').hidden = dht !== undefined
  fill('dht-buckets', (dht ? dht.buckets : []).map(b => { const bar = document.createElement('span'); bar.className = 'bar'; bar.style.width = Math.round(100 * b.peers / b.capacity) + 'px'; const f = cell(''); f.append(bar, ' ' + b.peers + '/' + b.capacity); return [String(b.cpl), [cell(b.cpl), cell(b.peers), f, cell(b.replacements)]] }))
  fill('dht-queries', (dht ? dht.queries : []).map(q => [q.startedAt + q.key, [cell(new Date(q.startedAt).toLocaleTimeString()), cell(q.type), cell(q.key), cell(q.durationMs), cell(q.outcome), cell(q.peersContacted), cell(q.failed)]]))
  document.getElementById('pubsub-none').hidden = s.pubsub !== undefined
  fill('pubsub-peers', (s.pubsub || []).map(p => [p.peer, [cell(p.peer), cell(p.topics.join(' ')), cell(p.mesh.join(' ')), cell(Math.round(p.score * 1000) / 1000), cell(p.parts ? Object.entries(p.parts).map(([k, v]) => k + ' ' + (Math.round(v * 1000) / 1000)).join(', ') : 'scoring off')]]))
  const log = document.getElementById('log')
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4
  log.textContent = s.log.length === 0 ? '(no lines yet: errors show here; DEBUG=ts-libp2p:* adds the rest)' : s.log.join('\\n')
  if (atBottom) log.scrollTop = log.scrollHeight
  fill('samples', Object.entries(s.samples).map(([k, v]) => [k, [cell(k), cell(v)]]))
  history.push(s); if (history.length > HISTORY) history.shift()
  draw()
}
const events = new EventSource('events' + (token ? '?token=' + encodeURIComponent(token) : ''))
events.onmessage = e => render(JSON.parse(e.data))
events.onerror = () => { document.getElementById('status').textContent = 'disconnected, retrying...' }
</script></body></html>
`
