/**
 * `cldcb-client paper`: check a paper backup, and print one.
 *
 *   paper verify --hsm-secret FILE --copy-file FILE [--passphrase-file FILE] [--json]
 *   paper verify --node-id HEX --copy-file FILE [--passphrase-file FILE] [--no-repair] [--json]
 *   paper sheet  --hsm-secret FILE --out FILE.html [--id ID] [--alias ALIAS] [--label TEXT] [--text] [--passphrase-file FILE]
 *
 * Reports name places (group, digit, word, character), never the secret. The
 * only secret output is what the operator asked for: the corrections a typo
 * search found (the right digit or word at each wrong place) and the sheet file.
 */
import { CldcbError } from '../../shared/errors';
import { fromUtf8, zeroize } from '../../shared/bytes';
import { forgetSecret, nodeIdHex, type LoadedSecret } from '../../shared/secrets/hsmSecret';
import {
  compareCopy,
  compareCopyWithNodeId,
  type CopyComparison,
  type HexCopyComparison,
  type NodeIdComparison,
} from '../../shared/paper/compare';
import { digitPlace, GROUPS_PER_LINE, LINES } from '../../shared/paper/copyText';
import { buildPaperSheet, renderSheetHtml, renderSheetText } from '../../shared/paper/sheet';
import { readSecretFileBytes } from '../../shared/node/secretFiles';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { repairHexCopy, repairWordCopy, type HexRepairResult, type WordRepairResult } from '../../shared/node/typoRepair';
import { parseOptions, printJson, requireOption, UsageError, type Command } from '../command';
import { passphraseFrom, type CliIo } from '../io';
import { FILE_KINDS_HELP, loadSecretForCli } from './nodeid';

const USAGE = `usage: cldcb-client paper verify --copy-file FILE (--hsm-secret FILE | --node-id HEX) [options]
       cldcb-client paper sheet --hsm-secret FILE --out FILE.html [options]

paper verify: check a typed copy of a paper backup (64 hex digits, BIP39
words, or a codex32 "cl1…" string) saved in --copy-file.
  --hsm-secret FILE   compare with this secret: reports which groups of 4
                      digits / words / characters differ (never the secret).
  --node-id HEX       compare the node id the copy gives with this one; for
                      hex and words copies that do not match, search for
                      typos (look-alike characters, swaps, one or two wrong
                      digits; one wrong word) and print the corrections.
                      Progress goes to stderr; Ctrl-C cancels.
  --no-repair         with --node-id: do not search for typos.
  --passphrase-file F the hsm_secret's passphrase (with --hsm-secret), or the
                      BIP39 passphrase of a words copy (with --node-id).
  --json              print the result as JSON.
  The hex copy may carry each line's check code after the line (as printed on
  the sheet: "a1b2 c3d4 e5f6 0718  check 3f"); a line whose check fails is named.
  Exit status: 0 the copy matches, 1 it does not (or an error), 2 usage.

paper sheet: write a printable paper backup of --hsm-secret to --out: the
64 hex digits in 4 lines of 4 groups, each line with a check code; the
codex32 string (hrp "cl"); the BIP39 words of a mnemonic node; the node id,
and boxes to write the node id by hand when verifying.
  --out FILE          the file to write (mode 0600; never overwritten).
                      HTML (self-contained, for printing), or plain text with --text.
  --id ID             codex32 identifier, 4 bech32 characters (default: from
                      --alias as Core Lightning's exposesecret does, else from the node id).
  --alias ALIAS       the node's alias (for the default identifier).
  --label TEXT        a label printed at the top (e.g. the node's name).
  --json              print {"file","node_id"} (and on failure the error) as JSON.
  --passphrase-file F the hsm_secret's passphrase, if it has one.

${FILE_KINDS_HELP}
`;

const COPY_FILE_MAX = 4096;

/** Read the typed copy (a small text file). The caller forgets the string. */
function readCopyFile(path: string): string {
  const bytes = readSecretFileBytes(path);
  try {
    const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    if (bytes.length > COPY_FILE_MAX) throw new CldcbError('bad_length', `${path}: too large for a typed copy.`);
    const text = fromUtf8(bytes.subarray(start), path);
    if (text.trim() === '') throw new CldcbError('bad_input', `${path} is empty: type the paper copy into it.`);
    return text;
  } finally {
    zeroize(bytes);
  }
}

/** A map of the 16 groups, each as 4 marks: "." right, "x" wrong. No digits. */
function hexMap(c: HexCopyComparison): string[] {
  const out: string[] = [];
  for (let l = 0; l < LINES; l++) {
    const groups = c.groups.slice(l * GROUPS_PER_LINE, (l + 1) * GROUPS_PER_LINE).map((g) =>
      Array.from({ length: 4 }, (_, i) => (g.positions.includes(g.index * 4 + i) ? 'x' : c.lookalikes.includes(g.index * 4 + i) ? 'o' : '.')).join(''),
    );
    const line = c.lines[l]!;
    const check = line.checkOk === null ? '' : line.checkOk ? '   check ok' : '   check FAILS';
    out.push(`  line ${l + 1}:  ${groups.join(' ')}${check}`);
  }
  return out;
}

function printComparison(io: CliIo, c: CopyComparison): void {
  for (const m of c.messages) io.out(`${m}\n`);
  if (c.kind === 'hex' && !c.matches) {
    io.out('Map of the copy ("." right, "x" wrong digit, "o" a letter typed for a digit):\n');
    for (const l of hexMap(c)) io.out(`${l}\n`);
  }
}

function jsonOfComparison(c: CopyComparison): unknown {
  // Everything in a comparison is positions and the operator's own typed text; drop the typed text anyway.
  if (c.kind === 'hex') return { ...c, groups: c.groups.map(({ typed: _t, ...g }) => g) };
  if (c.kind === 'words') return { ...c, words: c.words.map(({ typed: _t, ...w }) => w) };
  return { ...c, groups: c.groups.map(({ typed: _t, ...g }) => g) };
}

function progressPrinter(io: CliIo): (done: number, total: number, note?: string) => void {
  let lastNote = '';
  let lastStep = -1;
  return (done, total, note) => {
    const step = total > 0 ? Math.floor((done / total) * 10) : 0;
    if (note !== lastNote) {
      lastNote = note ?? '';
      lastStep = -1;
    }
    if (step === lastStep) return;
    lastStep = step;
    io.err(`searching ${lastNote}: ${step * 10}% (${done}/${total})\n`);
  };
}

async function verifyAgainstSecret(io: CliIo, copy: string, secretPath: string, passphraseFile: string | undefined, json: boolean): Promise<number> {
  const { secret, passphrase } = await loadSecretForCli(io, secretPath, passphraseFile);
  try {
    const c = compareCopy(copy, secret, { passphrase: wordsPassphrase(secret, passphrase) });
    if (json) io.out(`${JSON.stringify({ matches: c.matches, comparison: jsonOfComparison(c) })}\n`);
    else printComparison(io, c);
    if (!c.matches) io.err('cldcb-client paper: the copy does not match the secret (see the report above).\n');
    return c.matches ? 0 : 1;
  } finally {
    forgetSecret(secret);
  }
}

/** A words copy compared with a plain secret needs the BIP39 passphrase; a file password is not one. */
function wordsPassphrase(secret: LoadedSecret, passphrase: string | undefined): string | undefined {
  return secret.format === 'mnemonic-passphrase' || secret.source === 'words' ? passphrase : undefined;
}

function describeHexRepair(r: HexRepairResult): string[] {
  const out: string[] = [];
  if (r.exact) return ['The copy as typed gives this node id.'];
  if (r.candidates.length === 0) {
    out.push(
      `No correction found among ${r.searched} candidates (look-alikes, swaps, every single digit and every pair of digits). ` +
        'Check the node id, then compare the copy with the paper group by group.',
    );
    return out;
  }
  out.push(
    r.candidates.length === 1
      ? `Found the correction (${r.candidates[0]!.kind}) after ${r.searched} candidates in ${(r.ms / 1000).toFixed(1)} s:`
      : `Found ${r.candidates.length} corrections that give this node id (${r.searched} candidates, ${(r.ms / 1000).toFixed(1)} s):`,
  );
  r.candidates.forEach((c, i) => {
    if (r.candidates.length > 1) out.push(`  candidate ${i + 1} (${c.kind}):`);
    for (const ch of c.changes) {
      const p = digitPlace(ch.position);
      out.push(`  digit ${p.digit} (line ${p.line}, group ${p.groupInLine}, position ${p.inGroup}): typed "${ch.from}", should be "${ch.to}"`);
    }
  });
  out.push('Correct the paper at these places, then verify it again.');
  return out;
}

function describeWordRepair(r: WordRepairResult): string[] {
  if (r.exact) return ['The words as typed give this node id.'];
  if (r.candidates.length === 0)
    return [
      `No correction found among ${r.searched} candidates (swapped words, similar words, every word at every position). ` +
        'Check the node id and the BIP39 passphrase.',
    ];
  const out = [`Found ${r.candidates.length === 1 ? 'the correction' : `${r.candidates.length} corrections`} in ${(r.ms / 1000).toFixed(1)} s:`];
  r.candidates.forEach((c, i) => {
    if (r.candidates.length > 1) out.push(`  candidate ${i + 1} (${c.kind}):`);
    for (const ch of c.changes) out.push(`  word ${ch.position + 1}: typed "${ch.from}", should be "${ch.to}"`);
  });
  out.push('Correct the paper at these places, then verify it again.');
  return out;
}

async function verifyAgainstNodeId(
  io: CliIo,
  copy: string,
  nodeIdText: string,
  passphraseFile: string | undefined,
  repair: boolean,
  json: boolean,
): Promise<number> {
  const passphrase = passphraseFile !== undefined ? await passphraseFrom(io, passphraseFile, 'the words') : undefined;
  const c: NodeIdComparison = compareCopyWithNodeId(copy, nodeIdText, { passphrase });
  let repaired: HexRepairResult | WordRepairResult | null = null;
  if (!c.matches && c.canRepair && repair) {
    const ac = new AbortController();
    const onSigint = () => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const opts = { signal: ac.signal, onProgress: progressPrinter(io) };
      repaired = c.kind === 'hex' ? await repairHexCopy(copy, c.nodeId, opts) : await repairWordCopy(copy, c.nodeId, { ...opts, passphrase });
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  }
  const found = repaired !== null && repaired.candidates.length > 0;
  if (json) {
    const candidates =
      repaired === null ? null : repaired.candidates.map((x) => ({ kind: x.kind, changes: x.changes }));
    io.out(
      `${JSON.stringify({
        matches: c.matches,
        comparison: c,
        repair: repaired === null ? null : { searched: repaired.searched, ms: Math.round(repaired.ms), candidates },
      })}\n`,
    );
  } else {
    for (const m of c.messages) io.out(`${m}\n`);
    if (c.derivedNodeId && !c.matches) io.out(`The copy gives node id ${c.derivedNodeId}.\n`);
    if (repaired !== null) {
      const lines = 'words' in (repaired.candidates[0] ?? {}) || c.kind === 'words' ? describeWordRepair(repaired as WordRepairResult) : describeHexRepair(repaired as HexRepairResult);
      for (const l of lines) io.out(`${l}\n`);
    }
  }
  if (!c.matches) io.err(`cldcb-client paper: the copy does not give this node id${found ? ' (corrections found: see above)' : ''}.\n`);
  return c.matches ? 0 : 1;
}

async function sheet(io: CliIo, argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    'hsm-secret': { type: 'string' },
    'passphrase-file': { type: 'string' },
    out: { type: 'string' },
    id: { type: 'string' },
    alias: { type: 'string' },
    label: { type: 'string' },
    text: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const secretPath = requireOption(values['hsm-secret'], '--hsm-secret FILE');
  const out = requireOption(values.out, '--out FILE');
  const { secret } = await loadSecretForCli(io, secretPath, values['passphrase-file']);
  try {
    const words = secret.secretData.length === 64 && secret.mnemonic ? secret.mnemonic : undefined;
    const s = buildPaperSheet({
      secretData: secret.secretData,
      mnemonic: words,
      passphraseUsed: secret.format === 'mnemonic-passphrase',
      codex32Id: values.id,
      alias: values.alias,
      label: values.label,
      date: new Date().toISOString().slice(0, 10),
    });
    writeFileAtomic(out, values.text ? renderSheetText(s) : renderSheetHtml(s), { mode: 0o600 });
    if (values.json) printJson(io, { file: out, node_id: nodeIdHex(secret) });
    else io.out(`Wrote the paper sheet to ${out} (mode 0600). Node id ${nodeIdHex(secret)}. Print it, then delete the file.\n`);
    return 0;
  } finally {
    forgetSecret(secret);
  }
}

export const paperCommand: Command = {
  name: 'paper',
  summary: 'verify a typed paper copy (against the secret or a node id, with typo repair); write a printable sheet',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === 'sheet') return sheet(io, rest);
    if (sub !== 'verify') throw new UsageError(sub === undefined ? 'missing "verify" or "sheet"' : `unknown subcommand "${sub}" (verify or sheet)`);
    const { values } = parseOptions(rest, {
      'copy-file': { type: 'string' },
      'hsm-secret': { type: 'string' },
      'node-id': { type: 'string' },
      'passphrase-file': { type: 'string' },
      'no-repair': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const copyFile = requireOption(values['copy-file'], '--copy-file FILE');
    if ((values['hsm-secret'] === undefined) === (values['node-id'] === undefined))
      throw new UsageError('give exactly one of --hsm-secret FILE or --node-id HEX');
    const copy = readCopyFile(copyFile);
    if (values['hsm-secret'] !== undefined) return verifyAgainstSecret(io, copy, values['hsm-secret'], values['passphrase-file'], Boolean(values.json));
    return verifyAgainstNodeId(io, copy, values['node-id']!, values['passphrase-file'], !values['no-repair'], Boolean(values.json));
  },
};
