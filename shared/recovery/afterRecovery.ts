/**
 * What to do after a recovery: where the files are and the steps that bring the node back safely.
 * One definition, shown by the app's Recover screen and printed (or saved as PDF) as the
 * after-recovery checklist. Platform-free: paths are handled as strings.
 *
 * The rules behind the steps:
 * - A database that may be stale never sits where lightningd opens it (the engine writes it as
 *   `lightningd.sqlite3.stale-<data_version>`): starting lightningd on old channel state lets peers
 *   punish it and take the channel funds (design.md "Recovery, as data flows" §5). The steps then
 *   lead to the SCB path.
 * - The old node must never run again: two nodes with the same keys and different channel states
 *   is the same danger.
 * - The recovered node keeps its backup only if the plugin is loaded again: `important-plugin=`
 *   makes lightningd stop rather than run without it.
 */

export const LIGHTNINGD_DATABASE = 'lightningd.sqlite3';
export const WRAPPER_FILE = 'cldcb-plugin-wrapper';

export interface AfterRecoveryStep {
  readonly id: string;
  readonly title: string;
  readonly detail: string;
  /** Commands or a config line to type, when the step has them. */
  readonly command?: string;
  /** A step that protects funds: shown in red. */
  readonly warning?: boolean;
}

export interface AfterRecoveryInput {
  readonly stale: boolean;
  readonly staleReasons: readonly string[];
  readonly databasePath: string;
  readonly wrapperPath?: string;
  readonly nodeId: string;
  readonly dataVersion: number;
}

export interface AfterRecovery {
  readonly databaseAside: boolean;
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

const NEVER_OLD_NODE: AfterRecoveryStep = {
  id: 'never-old-node',
  title: 'The old node must never run again',
  detail:
    'If the old machine or its disk comes back, do not start lightningd on it: two nodes with the same keys and different channel states lose the channels to penalty transactions. Wipe its lightningd.sqlite3, or keep that machine off the network for good.',
  warning: true,
};

/** The steps after a recovery, from the engine's verdict. */
export function afterRecovery(v: AfterRecoveryInput): AfterRecovery {
  const { dir, base } = splitPath(v.databasePath);
  const databaseAside = base !== LIGHTNINGD_DATABASE;
  const staleInPlace = v.stale && !databaseAside;
  const steps: AfterRecoveryStep[] = [];
  if (v.stale) {
    if (staleInPlace)
      steps.push({
        id: 'move-stale-aside',
        title: 'Move the database aside before anything else',
        detail: `This database may be stale and it sits where lightningd opens it. Rename it now, before lightningd can start on it.`,
        command: `mv ${sh(v.databasePath)} ${sh(`${v.databasePath}.stale-${v.dataVersion}`)}`,
        warning: true,
      });
    else
      steps.push({
        id: 'stale-aside',
        title: 'Do not start lightningd on this database',
        detail: `It may be stale (${v.staleReasons.join(' ')}) and was written as ${v.databasePath}, a name lightningd never opens. Rename it to ${LIGHTNINGD_DATABASE} only if you are certain no newer channel state exists anywhere (no other server, no copy of the old disk).`,
        warning: true,
      });
    steps.push({
      id: 'scb',
      title: 'Get the channel funds back with the SCB path',
      detail:
        'Start a fresh node with the same hsm_secret and an empty lightning directory, have every peer force-close, and follow each channel until its funds are back on chain (the SCB screen walks you through it).',
    });
    steps.push(NEVER_OLD_NODE);
    return { databaseAside, staleInPlace, lightningDir: dir, steps };
  }
  steps.push(NEVER_OLD_NODE);
  steps.push({
    id: 'hsm-secret',
    title: 'Put the hsm_secret in the lightning directory',
    detail: `The node needs the same hsm_secret beside its database: ${dir}/hsm_secret, readable by the lightningd user only (Export secret writes it with mode 0400).`,
    command: `chmod 0400 ${sh(`${dir}/hsm_secret`)}`,
  });
  if (v.wrapperPath)
    steps.push({
      id: 'plugin',
      title: 'Load the backup plugin again',
      detail:
        'Add this line to lightningd\'s config so every write is backed up again. important-plugin makes lightningd stop rather than run without its backup; plugin= lets it run on.',
      command: `important-plugin=${v.wrapperPath}`,
    });
  else
    steps.push({
      id: 'plugin-install',
      title: 'Install the backup plugin again before lightningd runs for long',
      detail:
        'No plugin wrapper was written (the server\'s address is not known, or it was not asked for). Run the key ceremony (Install backup) and add the important-plugin= line it gives to lightningd\'s config: until then nothing the node does is backed up.',
    });
  steps.push({
    id: 'start',
    title: 'Start lightningd and check it is your node',
    detail: `Start it on this directory and check that getinfo shows node id ${v.nodeId} and that listpeerchannels shows your channels reconnecting.`,
    command: `lightningd --lightning-dir=${sh(dir)}\nlightning-cli --lightning-dir=${sh(dir)} getinfo\nlightning-cli --lightning-dir=${sh(dir)} listpeerchannels`,
  });
  steps.push({
    id: 'credentials',
    title: 'Replace the node\'s credentials',
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
      `<li class="${s.warning ? 'warn' : ''}"><span class="box"></span><b>${esc(s.title)}</b><br>${esc(s.detail)}${s.command ? `<pre>${esc(s.command)}</pre>` : ''}</li>`,
  )
  .join('\n')}
</ol>
</body></html>
`;
}
