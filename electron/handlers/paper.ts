/** paper.*: compare a typed paper copy, search for typos, build and print the paper sheet. */
import { CldcbError } from '../../shared/errors';
import type { PaperDiffView, SheetView, TypoCandidateView } from '../../shared/ipc/contract';
import { compareCopy, compareCopyWithNodeId, detectCopyKind, type CopyComparison } from '../../shared/paper/compare';
import { buildPaperSheet, renderSheetHtml } from '../../shared/paper/sheet';
import { describeGroup } from '../../shared/paper/copyText';
import { locateCodex32Errors } from '../../shared/codex32';
import { repairHexCopy, repairWordCopy } from '../../shared/node/typoRepair';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { printHtml, type BackendContext, type HandlerGroup } from './context';

type C = 'paper.compare' | 'paper.startRepair' | 'paper.sheet' | 'paper.printPdf' | 'paper.print';

/** The renderer's view of a comparison: one unit per hex group, word or codex32 group. */
export function diffView(c: CopyComparison): PaperDiffView {
  const summary = c.matches ? 'The copy matches.' : c.messages.join(' ') || 'The copy differs.';
  switch (c.kind) {
    case 'hex':
      return {
        kind: 'hex',
        matches: c.matches,
        summary,
        units: c.groups.map((g) => ({ index: g.index, label: describeGroup(g.index), typed: g.typed, ok: g.ok })),
      };
    case 'words':
      return {
        kind: 'words',
        matches: c.matches,
        summary,
        units: c.words.map((w) => ({ index: w.index, label: `word ${w.index + 1}`, typed: w.typed, ok: w.ok !== false && w.known })),
      };
    case 'codex32':
      return {
        kind: 'codex32',
        matches: c.matches,
        summary,
        units: c.groups.map((g) => ({ index: g.index, label: `characters ${4 * g.index + 1}–${4 * g.index + g.typed.length}`, typed: g.typed, ok: g.ok })),
      };
  }
}

/** For a codex32 copy whose checksum fails: where the checksum says the errors are (never applied here). */
function withCodex32Fixes(view: PaperDiffView, copy: string): PaperDiffView {
  if (view.kind !== 'codex32' || view.matches) return view;
  const fixes = locateCodex32Errors(copy.replace(/[\s\-\u2010-\u2015]/gu, ''));
  return fixes ? { ...view, codex32Fixes: [{ changes: fixes.map((f) => ({ ...f })) }] } : view;
}

export function paperHandlers({ deps, session }: BackendContext): HandlerGroup<C> {
  const sheetFor = (id?: string) => {
    const s = session.get();
    return buildPaperSheet({
      secretData: s.secretData,
      ...(s.mnemonic !== undefined && s.secretData.length === 64 ? { mnemonic: s.mnemonic } : {}),
      passphraseUsed: s.format === 'mnemonic-passphrase',
      ...(id ? { codex32Id: id } : {}),
      date: (deps.now?.() ?? new Date()).toISOString().slice(0, 10),
    });
  };

  return {
    'paper.compare': ({ copy, nodeId }) => {
      // A node id given is what the operator chose to compare with (e.g. the loaded secret is the one that did not match).
      const s = session.current();
      if (s && !nodeId) return withCodex32Fixes(diffView(compareCopy(copy, s)), copy);
      if (!nodeId) throw new CldcbError('bad_input', 'No secret is loaded: type the node id to compare the copy with.');
      const r = compareCopyWithNodeId(copy, nodeId);
      return withCodex32Fixes(
        {
          kind: r.kind,
          matches: r.matches,
          summary: r.matches ? 'The copy gives this node id: it is right.' : r.messages.join(' ') || 'The copy gives another node id.',
          units: [],
          ...(r.derivedNodeId ? { copyNodeId: r.derivedNodeId } : {}),
        },
        copy,
      );
    },

    'paper.startRepair': ({ copy, nodeId }) => {
      const kind = detectCopyKind(copy);
      if (kind === 'codex32')
        throw new CldcbError('unsupported', 'A codex32 copy carries its own checksum: fix the characters it names, no search is needed.');
      const jobId = session.jobs.start('typo-repair', async ({ onProgress, signal }) => {
        if (kind === 'hex') {
          const r = await repairHexCopy(copy, nodeId, { onProgress, signal });
          const candidates: TypoCandidateView[] = r.candidates.map((c) => ({ text: c.hex, kind: c.kind, changes: c.changes.map((x) => ({ ...x })) }));
          return { candidates, searched: r.searched, ms: r.ms, exact: r.exact };
        }
        const r = await repairWordCopy(copy, nodeId, { onProgress, signal });
        const candidates: TypoCandidateView[] = r.candidates.map((c) => ({ text: c.words.join(' '), kind: c.kind, changes: c.changes.map((x) => ({ ...x })) }));
        return { candidates, searched: r.searched, ms: r.ms, exact: r.exact };
      });
      return { jobId };
    },

    'paper.sheet': ({ id }): SheetView => {
      const sheet = sheetFor(id);
      return {
        lines: sheet.hex.map((l) => ({ index: l.index, groups: [...l.groups], check: l.check })),
        codex32: sheet.codex32?.text ?? null,
        codex32Id: sheet.codex32?.id ?? null,
        words: sheet.words ? [...sheet.words.words] : null,
        nodeIdGroups: [sheet.nodeId.prefix, ...sheet.nodeId.groups],
        createdAt: sheet.date ?? '',
      };
    },

    'paper.printPdf': async ({ id }) => {
      const html = renderSheetHtml(sheetFor(id));
      const target = await deps.chooseSavePath({ title: 'Save the paper sheet as PDF', defaultName: 'hsm_secret-paper-sheet.pdf' });
      if (target === null) return null;
      const pdf = await deps.printToPdf(html);
      writeFileAtomic(target, pdf, { mode: 0o600 });
      return { path: target };
    },
    'paper.print': ({ id }) => printHtml(deps, renderSheetHtml(sheetFor(id))),
  };
}
