/**
 * The dashboard's browser script, kept as text so the page can allow it by hash. Every value from the
 * relay goes into the page through textContent, never as HTML: descriptions come from skeletons.
 */
export const DASHBOARD_SCRIPT = String.raw`
'use strict';
const KEY = 'burrow-admin-token';
const $ = (id) => document.getElementById(id);
const fromHash = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (fromHash) { sessionStorage.setItem(KEY, decodeURIComponent(fromHash[1])); history.replaceState(null, '', location.pathname); }
// Two minutes of samples, starting flat, so the line spans the chart from the first poll.
const samples = Array.from({ length: 60 }, () => ({ up: 0, down: 0 }));
let last = null;
let stopped = false;

function headers() {
  const t = sessionStorage.getItem(KEY);
  return t ? { Authorization: 'Bearer ' + t } : {};
}
function bytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}
function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}
function since(iso, now) { return duration(now - Date.parse(iso)); }
function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function table(id, head, rows, empty) {
  const t = $(id);
  t.replaceChildren();
  const tr = document.createElement('tr');
  for (const h of head) { const th = document.createElement('th'); th.textContent = h; tr.appendChild(th); }
  t.appendChild(tr);
  if (!rows.length) { const r = document.createElement('tr'); const td = cell(r, empty, 'empty'); td.colSpan = head.length; t.appendChild(r); return; }
  for (const row of rows) {
    const r = document.createElement('tr');
    for (const c of row) {
      if (c && c.button) {
        const td = document.createElement('td');
        const b = document.createElement('button');
        b.textContent = c.button;
        b.addEventListener('click', () => act(c.url, c.confirm));
        td.appendChild(b);
        r.appendChild(td);
      } else if (c && typeof c === 'object') cell(r, c.text, c.cls);
      else cell(r, String(c));
    }
    t.appendChild(r);
  }
}
async function act(url, question) {
  if (!confirm(question)) return;
  const res = await fetch(url, { method: 'POST', headers: headers() });
  if (!res.ok) $('status').textContent = 'action failed: HTTP ' + res.status;
  poll();
}
function chart() {
  const w = 600, h = 140, n = 60;
  const peak = Math.max(1, ...samples.map((s) => Math.max(s.up, s.down)));
  const line = (key) => samples.map((s, i) => ((w * (i + n - samples.length)) / (n - 1)).toFixed(1) + ',' + (h - 4 - ((h - 8) * s[key]) / peak).toFixed(1)).join(' ');
  $('line-up').setAttribute('points', line('up'));
  $('line-down').setAttribute('points', line('down'));
  $('peak').textContent = 'peak ' + bytes(Math.round(peak)) + '/s';
}
function render(o) {
  const now = Date.parse(o.time);
  $('fp').textContent = o.relay.fingerprint + '  clients :' + o.relay.clientPort + '  skeletons :' + o.relay.skeletonPort + '  up ' + since(o.relay.startedAt, now);
  const t = o.totals;
  const totals = [['servers', t.servers], ['skeletons', t.skeletons], ['sessions', t.sessions], ['live streams', t.streams], ['idle conns', t.idleConnections],
    ['penalised', t.penalisedSources], ['client\u2192server', bytes(t.bytesClientToServer)], ['server\u2192client', bytes(t.bytesServerToClient)]];
  $('totals').replaceChildren(...totals.map(([k, v]) => { const d = document.createElement('div'); const b = document.createElement('b'); b.textContent = String(v); d.append(b, k); return d; }));
  if (last) {
    const dt = Math.max(0.001, (now - last.now) / 1000);
    samples.push({ up: Math.max(0, (t.bytesClientToServer - last.up) / dt), down: Math.max(0, (t.bytesServerToClient - last.down) / dt) });
    if (samples.length > 60) samples.shift();
    chart();
  }
  last = { now, up: t.bytesClientToServer, down: t.bytesServerToClient };
  table('servers', ['id', 'skeleton account', 'up', 'protocol', 'description'],
    o.servers.map((s) => [s.id, s.account, since(s.onlineSince, now), s.protocol, s.description]), 'no server online');
  table('streams', ['#', 'server', 'client', 'duration', 'c\u2192s', 's\u2192c', ''],
    o.streams.map((s) => [s.id, s.server, s.clientAccount, duration(s.durationMs), { text: bytes(s.bytesClientToServer), cls: 'num' }, { text: bytes(s.bytesServerToClient), cls: 'num' },
      { button: 'close', url: '/api/streams/' + s.id + '/close', confirm: 'Cut stream ' + s.id + ' to ' + s.server + '?' }]), 'no stream running');
  table('publications', ['url', 'server', 'account', 'open', 'total', 'public\u2192home', 'home\u2192public', 'refused'],
    (o.publications || []).map((p) => [p.url, p.server || '-', p.account || '-', p.open, p.connections, { text: bytes(p.bytesClientToServer), cls: 'num' },
      { text: bytes(p.bytesServerToClient), cls: 'num' }, Object.entries(p.refusals).map(([r, n]) => r + ' ' + n).join(', ') || '-']), 'nothing published');
  table('sessions', ['account', 'role', 'since', 'streams', ''],
    o.sessions.map((s) => [s.account, s.role, since(s.since, now), s.streams,
      { button: 'disconnect', url: '/api/sessions/' + encodeURIComponent(s.id) + '/disconnect', confirm: 'Disconnect ' + s.account + ' (' + s.role + ')? It may log in again; disable the account to keep it out.' }]), 'nobody logged in');
  table('failed', ['time', 'user', 'role', 'reason'],
    o.failedLogins.map((f) => [new Date(f.time).toLocaleTimeString(), f.user === undefined ? '(unreadable)' : f.user, f.role, f.reason]), 'none');
}
async function poll() {
  try {
    const res = await fetch('/api/overview', { headers: headers(), cache: 'no-store' });
    if (res.status === 401) {
      $('login').classList.add('show');
      $('status').textContent = sessionStorage.getItem(KEY) ? 'token refused' : 'token needed';
      $('status').className = 'err';
      stopped = true;
      return;
    }
    if (!res.ok) throw new Error('HTTP ' + res.status);
    render(await res.json());
    $('login').classList.remove('show');
    $('status').textContent = 'live';
    $('status').className = '';
  } catch (e) {
    $('status').textContent = 'relay unreachable (' + e.message + ')';
    $('status').className = 'err';
  }
}
$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $('token').value.trim());
  $('token').value = '';
  stopped = false;
  poll();
});
poll();
setInterval(() => { if (!stopped) poll(); }, 1500);
`;
