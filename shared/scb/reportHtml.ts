/**
 * The SCB recovery report as self-contained printable HTML (inline CSS, no
 * scripts, no external resources): the Electron main process prints it to PDF.
 */
import type { ScbRecoveryReport } from './walkthrough';

const esc = (s: string | number | null | undefined): string =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderScbReportHtml(r: ScbRecoveryReport): string {
  const rows = r.channels
    .map((c) => {
      const p = r.progress?.channels.find((x) => x.channel_id === c.channel_id);
      return `<tr><td>${esc(c.dbid)}</td><td class="m">${esc(c.peer_id)}<br>${esc(c.peer_address ?? 'address unknown')}</td><td class="m">${esc(c.funding_txid)}:${esc(c.funding_outnum)}</td><td>${esc(c.funding_sat.toLocaleString('en-US'))} sat</td><td>${esc(c.channel_type.names.join(', '))}</td><td class="m">${esc(c.to_remote.address)}</td><td>${esc(p?.state ?? 'not tracked')}</td></tr>`;
    })
    .join('');
  const steps = r.steps
    .map((s) => `<li${s.warning ? ' class="warn"' : ''}><b>${esc(s.title)}</b><br>${esc(s.detail)}${s.command ? `<pre>${esc(s.command)}</pre>` : ''}</li>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>CLDCB SCB recovery report</title><style>
body{font-family:sans-serif;font-size:11px;margin:24px;color:#111}h1{font-size:18px}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #999;padding:4px;vertical-align:top;text-align:left}.m{font-family:monospace;word-break:break-all}
pre{white-space:pre-wrap;word-break:break-all;background:#f3f3f3;padding:6px}.warn{color:#8a1c1c}
</style></head><body><h1>Static channel backup recovery</h1>
<p>Generated ${esc(r.generated_at)} · network ${esc(r.network)} · source ${esc(r.source)}${r.key_base ? ` · key base ${esc(r.key_base)}` : ''}</p>
<p>${esc(r.summary.channels)} channels, ${esc(r.summary.total_funding_sat.toLocaleString('en-US'))} sat in total; recovered so far ${esc(Math.floor(r.summary.recovered_msat / 1000).toLocaleString('en-US'))} sat${r.summary.done ? ' — all done' : ''}.</p>
<table><thead><tr><th>dbid</th><th>peer</th><th>funding outpoint</th><th>amount</th><th>type</th><th>to_remote address</th><th>state</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Steps</h2><ol>${steps}</ol></body></html>`;
}
