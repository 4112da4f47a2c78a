/**
 * The recovery report (design "Recovery, as data flows" §7): the verdict as JSON (snake_case,
 * what `cldcb-client recover --json` prints), as plain text, and as a self-contained
 * printable HTML page (inline CSS, no scripts, no external resources). Pure.
 */
import type { RecoveryVerdict, RecoveryWarning, SourceOutcome } from './types';

export const iso = (unix: number): string => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');

/** The verdict as snake_case JSON data. */
export function verdictJson(v: RecoveryVerdict): Record<string, unknown> {
  return {
    ok: v.ok,
    stale: v.stale,
    stale_reasons: v.staleReasons,
    ...(v.staleAdvice ? { stale_advice: v.staleAdvice } : {}),
    freshness: {
      state: v.freshness.state,
      reason: v.freshness.reason,
      ...(v.freshness.policy ? { servers: v.freshness.policy.servers, quorum: v.freshness.policy.quorum, server_ids: v.freshness.policy.serverIds } : {}),
      answered: v.freshness.answered,
      ...(v.freshness.needed !== undefined ? { needed: v.freshness.needed } : {}),
      missing_servers: v.freshness.missingServers,
    },
    sources: sourceRows(v).map((r) => ({
      name: r.name,
      ...(r.serverId ? { server_id: r.serverId } : {}),
      outcome: r.outcome,
      data_version: r.dataVersion ?? null,
      last_increment_time: r.time !== undefined ? iso(r.time) : null,
      ...(r.behindBy !== undefined ? { behind_by: r.behindBy } : {}),
      ...(r.policyServer !== undefined ? { node_server: r.policyServer } : {}),
      detail: r.detail,
    })),
    node_id: v.nodeId,
    client_id: v.clientId,
    source: { label: v.source.label, kind: v.source.kind },
    found_by: v.via === 'code' ? 'recognition_code' : 'archive',
    data_version: v.dataVersion,
    time: v.time ?? null,
    time_iso: v.time !== undefined ? iso(v.time) : null,
    time_basis: v.timeBasis ?? null,
    increments: v.increments,
    increments_stored: v.incrementsStored,
    statements: v.statements,
    snapshot_data_version: v.snapshotDataVersion,
    reupload_data_version: v.reuploadDataVersion,
    chain: v.chain,
    integrity: v.integrity.length === 1 && v.integrity[0] === 'ok' ? 'ok' : v.integrity,
    foreign_key_violations: v.foreignKeyViolations,
    foreign_key_tables: v.foreignKeyTables,
    database: v.database.path,
    database_bytes: v.database.bytes,
    wrapper: v.wrapper ? { path: v.wrapper.path, server_id: v.wrapper.serverId, server_host: v.wrapper.serverHost } : null,
    plugin_state: v.pluginState ? { path: v.pluginState.path, data_version: v.pluginState.dataVersion } : null,
    ...(v.clientKeyFile ? { client_key_file: v.clientKeyFile } : {}),
    next_steps: v.nextSteps,
    ...(v.lastKnownDataVersion !== undefined ? { last_known_data_version: v.lastKnownDataVersion } : {}),
    ...(v.lastKnownTime !== undefined ? { last_known_time: v.lastKnownTime } : {}),
    timings_ms: Object.fromEntries(v.timings.map((t) => [t.step, Math.round(t.ms * 10) / 10])),
    warnings: v.warnings.map((w) => ({ kind: w.kind, severity: w.severity, message: w.message })),
    candidates: v.candidates.map((c) => ({
      client_id: c.clientId,
      source: c.sourceLabel,
      found_by: c.via === 'code' ? 'recognition_code' : 'archive',
      data_version: c.dataVersion ?? null,
      time: c.time ?? null,
      time_basis: c.timeBasis ?? null,
      increments: c.increments ?? null,
      chain: c.chain ?? null,
      ...(c.error ? { error: c.error } : {}),
    })),
    finished_at: iso(v.finishedAt),
  };
}

/** One row per source: the search's label and server id with the freshness outcome. */
export function sourceRows(v: RecoveryVerdict): { name: string; serverId?: string; outcome: SourceOutcome; dataVersion?: number; time?: number; behindBy?: number; policyServer?: boolean; detail: string }[] {
  return v.freshness.sources.map((f, i) => ({
    name: v.sourceLabels?.[i] ?? `source ${i + 1}`,
    ...(v.sourceServerIds?.[i] ? { serverId: v.sourceServerIds[i] } : {}),
    outcome: f.outcome,
    ...(f.dataVersion !== undefined ? { dataVersion: f.dataVersion } : {}),
    ...(f.time !== undefined ? { time: f.time } : {}),
    ...(f.behindBy !== undefined ? { behindBy: f.behindBy } : {}),
    ...(f.policyServer !== undefined ? { policyServer: f.policyServer } : {}),
    detail: f.detail,
  }));
}

/** "Freshness: PROVEN — …" and one line per source. */
function freshnessLines(v: RecoveryVerdict): string[] {
  const f = v.freshness;
  const L = [`Freshness        ${f.state === 'proven' ? 'PROVEN' : 'NOT PROVEN'}: ${f.reason}`];
  if (f.policy) L.push(`Servers          ${f.policy.servers}, quorum ${f.policy.quorum} (sealed in the backup): ${f.policy.serverIds.join(', ')}`);
  for (const r of sourceRows(v)) L.push(`  ${r.outcome.padEnd(11)} ${r.name}${r.serverId ? ` (${r.serverId.slice(0, 12)}…)` : ''}: ${r.detail}`);
  return L;
}

const SEV = { error: '✗', warning: '!', info: '·' } as const;

function warningLines(ws: readonly RecoveryWarning[]): string[] {
  return ws.map((w) => `  ${SEV[w.severity]} ${w.message}`);
}

/** The one-line verdict: what was verified, and what is not done yet. */
export function verdictLine(v: RecoveryVerdict): string {
  if (v.stale) {
    const onlyUnproven = v.freshness.state === 'not-proven' && v.freshness.policy !== undefined && v.staleReasons.every((r) => r.startsWith('Not proven'));
    return onlyUnproven
      ? 'Verdict: NOT PROVEN to be the newest state — the database was set aside; read more servers (Next steps) before starting lightningd on it.'
      : 'Verdict: STALE — use the SCB path.';
  }
  const torn = v.warnings.some((w) => w.kind === 'torn_tail');
  const claim = torn ? `Verdict: rebuilt and verified up to data_version ${v.dataVersion}; the archive ends inside a later increment — confirm ${v.dataVersion} is the node's last (Next steps)` : 'Verdict: rebuilt and verified';
  return `${claim}${v.clientKeyFile ? ' — and backups are NOT set up yet: make the plugin wrapper first (Next steps).' : '.'}`;
}

/** Plain text (also what the CLI prints when not --json). */
export function verdictText(v: RecoveryVerdict): string {
  const L: string[] = [];
  L.push('CLDCB recovery report', '=====================', '');
  if (v.stale) {
    L.push('*** STALE: DO NOT START LIGHTNINGD ON THIS DATABASE ***');
    for (const r of v.staleReasons) L.push(`  ${r}`);
    L.push(`  ${v.staleAdvice}`, '');
  }
  L.push(...freshnessLines(v), '');
  L.push(`Node id          ${v.nodeId}`);
  L.push(`Backup           ${v.clientId}`);
  L.push(`Source           ${v.source.label} (${v.source.kind}${v.via === 'archive' ? ', found by opening its archive' : ', found by its recognition code'})`);
  L.push(`data_version     ${v.dataVersion}`);
  L.push(`Last increment   ${v.time !== undefined ? `${iso(v.time)}${v.timeBasis === 'mtime' ? ' (archive file time)' : ''}` : 'time unknown'}`);
  L.push(`Increments       ${v.increments} replayed of ${v.incrementsStored} stored, ${v.statements} statements, on a snapshot at data_version ${v.snapshotDataVersion}`);
  L.push(`Chain            ${v.chain === 'v1' ? 'v1 (chained, timed)' : v.chain === 'v0' ? 'none (original plugin format)' : v.chain}`);
  L.push(`integrity_check  ${v.integrity.join('; ')}`);
  L.push(`foreign keys     ${v.foreignKeyViolations === 0 ? 'no violations' : `${v.foreignKeyViolations} violation(s) in ${v.foreignKeyTables.join(', ')}`}`);
  L.push(`Database         ${v.database.path} (${v.database.bytes} bytes)`);
  L.push(`Plugin wrapper   ${v.wrapper ? `${v.wrapper.path} (server ${v.wrapper.serverHost})` : v.clientKeyFile ? `NOT WRITTEN: backups are not running (see Next steps; client key in ${v.clientKeyFile})` : 'not written'}`);
  L.push(`Plugin state     ${v.pluginState ? `${v.pluginState.path} (the chain continues from data_version ${v.pluginState.dataVersion})` : 'not written'}`);
  L.push('', 'Timings');
  for (const t of v.timings) L.push(`  ${t.step.padEnd(20)} ${(t.ms / 1000).toFixed(3)} s`);
  if (v.warnings.length > 0) L.push('', 'Warnings and notes', ...warningLines(v.warnings));
  if (v.candidates.length > 1) {
    L.push('', 'Backups of this node found');
    for (const c of v.candidates)
      L.push(`  ${c.clientId === v.clientId && c.source === v.source.index ? '→' : ' '} ${c.clientId} at ${c.sourceLabel}: ${c.error ? `unusable (${c.error.message})` : `data_version ${c.dataVersion ?? '?'}, ${c.increments ?? '?'} increments`}`);
  }
  if (v.nextSteps.length > 0) L.push('', 'Next steps', ...v.nextSteps.map((s, i) => `  ${i + 1}. ${s}`));
  L.push('', verdictLine(v), `Finished ${iso(v.finishedAt)}`, '');
  return L.join('\n');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const REPORT_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:50em;color:#111}
h1{font-size:1.5em;margin:0 0 .5em}h2{font-size:1.1em;margin:1.5em 0 .4em;border-bottom:1px solid #999}
table{border-collapse:collapse;width:100%}td,th{text-align:left;vertical-align:top;padding:.2em .6em .2em 0}
th{width:12em;font-weight:600}code{font:12px ui-monospace,monospace;word-break:break-all}
.stale{border:3px solid #b00;padding:.6em 1em;color:#b00;font-weight:600}.ok{border:2px solid #070;padding:.5em 1em;color:#070;font-weight:600}
.error{color:#b00}.warning{color:#850}.info{color:#444}@media print{body{margin:0}}`;

/** Wrap a body in a self-contained page (no scripts, no external resources). */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title><style>${REPORT_CSS}</style></head>
<body>
${body}
</body></html>
`;
}

export function rowsHtml(rows: readonly (readonly [string, string])[]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

export function warningsHtml(ws: readonly RecoveryWarning[]): string {
  if (ws.length === 0) return '<p>None.</p>';
  return `<ul>${ws.map((w) => `<li class="${w.severity}">${escapeHtml(w.message)}</li>`).join('')}</ul>`;
}

/** The verdict's sections (used by the recovery and the drill reports). */
export function verdictSectionsHtml(v: RecoveryVerdict): string {
  const code = (s: string): string => `<code>${escapeHtml(s)}</code>`;
  const banner = v.stale
    ? `<div class="stale">STALE — do not start lightningd on this database.<br>${v.staleReasons.map(escapeHtml).join('<br>')}<br>${escapeHtml(v.staleAdvice ?? '')}</div>`
    : `<div class="ok">${escapeHtml(verdictLine(v).replace(/^Verdict: r/, 'R'))}</div>`;
  const steps = v.nextSteps.length > 0 ? `\n<h2>Next steps</h2>\n<ol>${v.nextSteps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ol>` : '';
  return `${banner}${steps}
<h2>Freshness</h2>
<p class="${v.freshness.state === 'proven' ? 'info' : 'warning'}"><strong>${v.freshness.state === 'proven' ? 'Proven fresh' : 'Not proven fresh'}.</strong> ${escapeHtml(v.freshness.reason)}</p>
${rowsHtml(sourceRows(v).map((r) => [r.name, `${escapeHtml(r.outcome)} — ${escapeHtml(r.detail)}`] as const))}
<h2>Backup</h2>
${rowsHtml([
  ['Node id', code(v.nodeId)],
  ['Backup (client id)', code(v.clientId)],
  ['Source', `${escapeHtml(v.source.label)} (${escapeHtml(v.source.kind)}; found by ${v.via === 'code' ? 'its recognition code' : 'opening its archive'})`],
  ['data_version', String(v.dataVersion)],
  ['Last increment', v.time !== undefined ? `${escapeHtml(iso(v.time))}${v.timeBasis === 'mtime' ? ' (archive file time)' : ''}` : 'unknown'],
  ['Increments', `${v.increments} replayed of ${v.incrementsStored} stored; ${v.statements} statements; snapshot at data_version ${v.snapshotDataVersion}`],
  ['Chain', escapeHtml(v.chain)],
])}
<h2>Checks</h2>
${rowsHtml([
  ['integrity_check', escapeHtml(v.integrity.join('; '))],
  ['foreign_key_check', v.foreignKeyViolations === 0 ? 'no violations' : escapeHtml(`${v.foreignKeyViolations} in ${v.foreignKeyTables.join(', ')}`)],
  ['Database', `${code(v.database.path)} (${v.database.bytes} bytes)`],
  ['Plugin wrapper', v.wrapper ? `${code(v.wrapper.path)} (server ${escapeHtml(v.wrapper.serverHost)})` : v.clientKeyFile ? `<strong>not written: backups are not running</strong> (see next steps; client key in ${code(v.clientKeyFile)})` : 'not written'],
  ['Plugin state', v.pluginState ? `${code(v.pluginState.path)} (the chain continues from data_version ${v.pluginState.dataVersion})` : 'not written'],
])}
<h2>Timings</h2>
${rowsHtml(v.timings.map((t) => [t.step, `${(t.ms / 1000).toFixed(3)} s`] as const))}
<h2>Warnings and notes</h2>
${warningsHtml(v.warnings)}`;
}

/** Printable HTML recovery report. */
export function verdictHtml(v: RecoveryVerdict): string {
  return htmlPage('CLDCB recovery report', `<h1>CLDCB recovery report</h1>\n${verdictSectionsHtml(v)}\n<p>Finished ${escapeHtml(iso(v.finishedAt))}.</p>`);
}
