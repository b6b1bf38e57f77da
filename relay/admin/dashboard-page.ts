/**
 * The dashboard: one self-contained page, no build step. Its script and style are inline and allowed by
 * their SHA-256 hashes in a strict Content-Security-Policy; nothing else may run or load. The page holds
 * no data: it polls /api/overview with the token the operator typed (kept in sessionStorage), or one
 * given in the URL fragment (#token=...), which browsers never send to the server.
 */
import { createHash } from 'node:crypto';
import type { AdminResponse } from './admin-http.js';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2327;background:#f6f7f7}
header{background:#1d2327;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}header .fp{font-family:monospace;font-size:12px;opacity:.8}
main{padding:12px 20px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}
section{background:#fff;border:1px solid #dcdcde;border-radius:6px;padding:10px 14px}
h2{font-size:15px;margin:0 0 8px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:3px 8px 3px 0;border-bottom:1px solid #f0f0f1;font-variant-numeric:tabular-nums}
th{font-weight:600;color:#50575e}td.num{text-align:right}.empty{color:#8c8f94}
.totals{display:flex;gap:18px;flex-wrap:wrap}.totals div{min-width:90px}.totals b{display:block;font-size:20px}
.wide{grid-column:1/-1}#status{font-size:12px}.err{color:#d63638}
button{font-size:12px;padding:1px 8px;cursor:pointer}
#login{display:none;gap:8px;align-items:center}#login.show{display:flex}
svg{width:100%;height:140px;background:#fbfbfc}.up{stroke:#2271b1}.down{stroke:#00a32a}
.legend span{margin-right:14px}.legend .u{color:#2271b1}.legend .d{color:#00a32a}
`;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export const DASHBOARD_CSP = [
  "default-src 'none'", `script-src ${sha256(DASHBOARD_SCRIPT)}`, `style-src ${sha256(STYLE)}`, "connect-src 'self'",
  "img-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>burrow relay</title><style>${STYLE}</style></head>
<body>
<header><h1>burrow relay</h1><span class="fp" id="fp"></span><span id="status">connecting...</span>
<form id="login"><label>Admin token <input id="token" type="password" autocomplete="off" size="40"></label><button type="submit">Use</button></form></header>
<main>
<section class="wide"><h2>Now</h2><div class="totals" id="totals"></div></section>
<section class="wide"><h2>Traffic (bytes/s, last 2 minutes)</h2><svg id="chart" viewBox="0 0 600 140" preserveAspectRatio="none"><polyline class="up" id="line-up" fill="none" stroke-width="2" points=""/><polyline class="down" id="line-down" fill="none" stroke-width="2" points=""/></svg>
<div class="legend"><span class="u">&#9632; client &rarr; server</span><span class="d">&#9632; server &rarr; client</span><span id="peak"></span></div></section>
<section><h2>Servers online</h2><table id="servers"></table></section>
<section><h2>Live streams</h2><table id="streams"></table></section>
<section class="wide"><h2>Publications (public ingress)</h2><table id="publications"></table></section>
<section><h2>Sessions</h2><table id="sessions"></table></section>
<section><h2>Recent failed logins</h2><table id="failed"></table></section>
</main>
<script>${DASHBOARD_SCRIPT}</script>
</body></html>
`;

export function dashboardPage(): AdminResponse {
  return { status: 200, body: HTML, contentType: 'text/html; charset=utf-8', headers: { 'Content-Security-Policy': DASHBOARD_CSP } };
}
