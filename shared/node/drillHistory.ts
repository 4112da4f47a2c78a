/**
 * The drill history: every drill the app ran (demo or real), kept across restarts in the app's
 * user-data directory (`drill-history.json`, mode 0600, replaced atomically). The next drill is
 * due 90 days after the last *passing drill of a real node*: a demo proves the program works, not
 * that this node's backup restores, so it never moves the due date.
 *
 * The file holds no secret: kinds, results, times, the node id (public) and a one-line summary.
 * A damaged or unreadable file is set aside (renamed `.damaged-<time>`) rather than lost, and the
 * history starts again.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { DrillHistoryEntry, DrillHistoryView } from '../ipc/contract';
import { writeFileAtomic } from './atomicFile';
import { DRILL_INTERVAL_DAYS } from './recovery/drill';

export const DRILL_HISTORY_FILE = 'drill-history.json';
const MAX_ENTRIES = 200;
const FORMAT = 1;

interface HistoryFile {
  format: typeof FORMAT;
  entries: DrillHistoryEntry[];
}

function isEntry(x: unknown): x is DrillHistoryEntry {
  const e = x as Partial<DrillHistoryEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    (e.kind === 'demo' || e.kind === 'live') &&
    typeof e.pass === 'boolean' &&
    typeof e.finishedAt === 'number' &&
    typeof e.summary === 'string'
  );
}

export class DrillHistory {
  private entries: DrillHistoryEntry[] = [];
  private readonly file: string | null;

  /** `dir` null: a host that keeps no files (the history lives until the app quits). */
  constructor(dir: string | null) {
    this.file = dir ? path.join(dir, DRILL_HISTORY_FILE) : null;
    this.load();
  }

  private load(): void {
    if (!this.file || !existsSync(this.file)) return;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<HistoryFile>;
      if (parsed.format !== FORMAT || !Array.isArray(parsed.entries)) throw new Error('format');
      this.entries = parsed.entries.filter(isEntry);
    } catch {
      try {
        renameSync(this.file, `${this.file}.damaged-${Date.now()}`);
      } catch {
        /* keep going with an empty history */
      }
      this.entries = [];
    }
  }

  record(entry: DrillHistoryEntry): DrillHistoryView {
    this.entries = [entry, ...this.entries].slice(0, MAX_ENTRIES);
    if (this.file) {
      mkdirSync(path.dirname(this.file), { recursive: true });
      const data: HistoryFile = { format: FORMAT, entries: this.entries };
      writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n', { mode: 0o600, overwrite: true });
    }
    return this.view(entry.finishedAt);
  }

  view(nowSeconds: number): DrillHistoryView {
    const lastPass = this.entries.find((e) => e.kind === 'live' && e.pass) ?? null;
    const nextDueAt = lastPass ? lastPass.finishedAt + DRILL_INTERVAL_DAYS * 86_400 : null;
    return {
      entries: [...this.entries],
      lastPass,
      nextDueAt,
      overdue: nextDueAt !== null && nowSeconds > nextDueAt,
      storedIn: this.file,
    };
  }
}
