/**
 * What to do after a recovery: where the files are and the steps that bring the node back safely.
 * One list, shown by the app's Recover screen and printed (or saved as PDF) as the after-recovery
 * checklist. Platform-free: paths are handled as strings.
 *
 * The recovery engine says what its files need (verdict.nextSteps: the stale database set aside
 * and what to do with it, the important-plugin= line or the installplugin command, never start the
 * old node again) — those sentences are used as they are, never restated. Around them this adds
 * what the app's operator also needs on the worst day: the hsm_secret beside the database,
 * starting and checking the node, new credentials, the next drill — and, for a possibly stale
 * database, the way to the SCB path.
 */

export const LIGHTNINGD_DATABASE = 'lightningd.sqlite3';

export interface AfterRecoveryStep {
  readonly id: string;
  /** A short heading; absent for the engine's steps, which are one sentence each. */
  readonly title?: string;
  readonly detail: string;
  /** Commands or a config line to type, when the step has them. */
  readonly command?: string;
  /** A step that protects funds: shown in red. */
  readonly warning?: boolean;
}

export interface AfterRecoveryInput {
  readonly stale: boolean;
  readonly databasePath: string;
  readonly nodeId: string;
  readonly dataVersion: number;
  /** The engine's own next steps (RecoveryVerdict.nextSteps), in order. */
  readonly engineSteps: readonly string[];
  /**
   * Set aside only because the sources do not prove it is the newest state (several servers,
   * issue 11): reading more of the node's servers settles it, so the SCB path is the way out only
   * when they cannot be read.
   */
  readonly notProven?: { readonly missingServers: number };
}

export interface AfterRecovery {
  readonly databaseAside: boolean;
  /** A possibly stale database under the name lightningd opens (the engine never does this; checked all the same). */
  readonly staleInPlace: boolean;
  readonly lightningDir: string;
  readonly steps: AfterRecoveryStep[];
}

function splitPath(p: string): { dir: string; base: string } {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i < 0 ? { dir: '.', base: p } : { dir: p.slice(0, i) || p.slice(0, 1), base: p.slice(i + 1) };
}

/** Quote a path for a POSIX shell when it needs it. */
function sh(p: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`;
}

/** The steps after a recovery, from the engine's verdict. */
export function afterRecovery(v: AfterRecoveryInput): AfterRecovery {
  const { dir, base } = splitPath(v.databasePath);
  const databaseAside = base !== LIGHTNINGD_DATABASE;
  const staleInPlace = v.stale && !databaseAside;
  const engine = v.engineSteps.map((detail, i): AfterRecoveryStep => ({ id: `engine-${i + 1}`, detail, ...(v.stale && i === 0 ? { warning: true } : {}) }));
  const steps: AfterRecoveryStep[] = [];
  if (v.stale) {
    if (staleInPlace)
      steps.push({
        id: 'move-stale-aside',
        title: 'Move the database aside before anything else',
        detail: 'This database may be stale and it sits where lightningd opens it. Rename it now, before lightningd can start on it.',
        command: `mv ${sh(v.databasePath)} ${sh(`${v.databasePath}.stale-${v.dataVersion}`)}`,
        warning: true,
      });
    const scb =
      'Start a fresh node with the same hsm_secret and an empty lightning directory, have every peer force-close, and follow each channel until its funds are back on chain (the SCB screen walks you through it).';
    steps.push(
      ...engine,
      v.notProven
        ? {
            id: 'scb',
            title: "Only if the node's other servers cannot be read: the SCB path",
            detail: `First add ${v.notProven.missingServers > 1 ? 'the missing servers' : 'the missing server'} (online, or a copy of ${v.notProven.missingServers > 1 ? 'their directories' : 'its directory'}) to the sources and recover again into an empty directory: that proves whether this is the newest state. If that is impossible: ${scb}`,
          }
        : { id: 'scb', title: 'Get the channel funds back with the SCB path', detail: scb },
    );
    return { databaseAside, staleInPlace, lightningDir: dir, steps };
  }
  steps.push({
    id: 'hsm-secret',
    title: 'Put the hsm_secret in the lightning directory',
    detail: `The node needs the same hsm_secret beside its database: ${dir}/hsm_secret, readable by the lightningd user only (Export secret writes it with mode 0400).`,
    command: `chmod 0400 ${sh(`${dir}/hsm_secret`)}`,
  });
  steps.push(...engine);
  steps.push({
    id: 'start',
    title: 'Start lightningd and check it is your node',
    detail: `Start it on this directory and check that getinfo shows node id ${v.nodeId} and that listpeerchannels shows your channels reconnecting.`,
    command: `lightningd --lightning-dir=${sh(dir)}\nlightning-cli --lightning-dir=${sh(dir)} getinfo\nlightning-cli --lightning-dir=${sh(dir)} listpeerchannels`,
  });
  steps.push({
    id: 'credentials',
    title: "Replace the node's credentials",
    detail: 'Runes and macaroons from before may have been on the lost machine: issue new, narrow ones and revoke the old (the Credentials screen).',
  });
  steps.push({
    id: 'drill',
    title: 'Run a drill next quarter',
    detail: 'A drill proves the backup restores before you need it again (the Drill screen, or cldcb-client drill).',
  });
  return { databaseAside, staleInPlace, lightningDir: dir, steps };
}

const esc = (s: string): string =>
  s.replace(/[&<>"']/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The printable checklist: self-contained HTML with page margins; long paths and ids wrap. */
export function afterRecoveryHtml(a: AfterRecovery, facts: { nodeId: string; databasePath: string; wrapperPath?: string; dataVersion: number; date: string }): string {
  const rows: [string, string][] = [
    ['Node id', facts.nodeId],
    ['Database written', facts.databasePath],
    ['Plugin wrapper', facts.wrapperPath ?? 'not written'],
    ['data_version', String(facts.dataVersion)],
    ['Date', facts.date],
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>After the recovery — checklist</title>
<style>
@page { size: A4; margin: 16mm 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; color: #000; overflow-wrap: anywhere; }
h1 { font-size: 15pt; margin: 0 0 3mm; }
table { border-collapse: collapse; margin: 0 0 4mm; width: 100%; }
th { text-align: left; padding: 1mm 3mm 1mm 0; vertical-align: top; white-space: nowrap; }
td { padding: 1mm 0; font-family: "DejaVu Sans Mono", monospace; word-break: break-all; }
li { margin: 0 0 3mm; break-inside: avoid; }
li.warn b { color: #b3261e; }
pre { font-family: "DejaVu Sans Mono", monospace; background: #f2f2f2; padding: 2mm; white-space: pre-wrap; word-break: break-all; }
.box { display: inline-block; width: 4mm; height: 4mm; border: 0.3mm solid #000; margin-right: 2mm; vertical-align: -0.5mm; }
</style></head><body>
<h1>After the recovery — checklist</h1>
<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
<ol>
${a.steps
  .map(
    (s) =>
      `<li class="${s.warning ? 'warn' : ''}"><span class="box"></span>${s.title ? `<b>${esc(s.title)}</b><br>` : ''}${esc(s.detail)}${s.command ? `<pre>${esc(s.command)}</pre>` : ''}</li>`,
  )
  .join('\n')}
</ol>
</body></html>
`;
}
