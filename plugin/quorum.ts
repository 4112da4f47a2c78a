/**
 * Several backup servers: every db_write goes to all n, and lightningd may commit once k of
 * them stored it (issue 11; docs/PROTOCOL.md §5).
 *
 * Why k of n: any write lightningd committed is then on at least k servers, so any n − k + 1
 * of them include one that holds it — a recovery that reads that many servers can prove it
 * has the newest state, and the node keeps running while n − k servers are away or slow.
 *
 * How: one lane per server, each its own BackupSession (its own client key, connection, chain
 * and state file: pluginState.ts stateFileName), storing its increments one at a time in
 * data_version order. A db_write is queued on every lane at once; the hook is answered when k
 * lanes stored it, so lightningd waits for the k fastest only. The others go on in the
 * background:
 *  - a slow or unreachable server keeps its queue and retries its first increment with
 *    backoff (the plugin logs when it falls behind and when it has caught up);
 *  - a lane that cannot go on in order — its queue grew past MAX_BACKLOG, the server asked for
 *    a re-upload after lightningd had moved on, a permanent error — drops its queue and starts
 *    again at a snapshot: a copy of the database taken during a later db_write, while
 *    lightningd waits (the copy is synchronous, so it is always the state before that write),
 *    re-uploaded in the background (our server is asked for it; an original server asks by
 *    itself, seeing the gap);
 *  - a lane whose chain must start again anyway (no chain head: a server new in the wrapper,
 *    a first run; or a data_version gap after a restart) gets that copy at once, during the
 *    write it is due at. Every copy is taken while lightningd waits for this very write (one
 *    copy shared by the lanes that need it): a copy taken later, after the k others answered,
 *    could be torn by lightningd's own writes.
 * Fewer than k stores by the deadline: the hook fails (lightningd does not commit and stops),
 * with a line naming every server and its state.
 *
 * One server (n = 1) never comes here: plugin/main.ts uses the BackupSession directly, so the
 * one-server plugin behaves, on the wire and on disk, exactly as before.
 */
import { CldcbError } from '../shared/errors';
import { formatHostPort, formatServerId } from '../shared/cldcb/ids';
import { wrapperPolicy, wrapperQuorum, wrapperServers, type PluginConfig } from '../shared/cldcb/wrapper';
import { stateFileName } from '../shared/node/pluginState';
import { BackupSession, DEADLINE_MS, NeedsSnapshotError, snapshotDataVersion, type BackupOptions, type Log } from './backup';
import { takeSnapshot, type Snapshot } from './snapshot';

/** A lane further behind than this (increments or bytes) starts again at a snapshot. */
export const MAX_BACKLOG = 20_000;
export const MAX_BACKLOG_BYTES = 64 << 20;

export interface QuorumOptions extends BackupOptions {
  /** Overrides MAX_BACKLOG (tests). */
  readonly maxBacklog?: number;
}
/** A lane retries its first increment after this pause (doubling up to 5 s). */
const LANE_RETRY_MS = 250;
const LANE_RETRY_MAX_MS = 5000;
/**
 * One attempt of a lane (then it pauses and tries again, for as long as it takes): short, so a
 * server that went away is reported at once. The hook's own deadline is the wrapper's.
 */
const LANE_ATTEMPT_MS = 3000;

interface HookWait {
  /** lightningd still waits for this write: its database may be copied now. */
  open: boolean;
  stored: number;
  /** A refusal that must stop lightningd whatever the other servers do (stale_state). */
  refusal?: CldcbError;
  readonly notify: () => void;
}

/** A lane with more waiting increments than this is reported as behind. */
const BEHIND_AT = 10;

interface Item {
  readonly dv: number;
  readonly writes: readonly string[];
  readonly time: number;
  readonly bytes: number;
  readonly reupload: boolean;
  snapshot?: Snapshot;
  readonly hook: HookWait;
}

export type LaneState = 'current' | 'behind' | 'away' | 'restarting';

class Lane {
  readonly session: BackupSession;
  private queue: Item[] = [];
  private queuedBytes = 0;
  private pumping = false;
  /** Drop what is queued and start again at a snapshot taken during the next write. */
  needsSnapshot = false;
  lastError: string | undefined;
  lastStored: number | undefined;
  private reported: LaneState = 'current';

  private readonly maxBacklog: number;

  constructor(
    readonly index: number,
    readonly label: string,
    cfg: PluginConfig,
    dir: string,
    private readonly log: Log,
    opts: QuorumOptions,
  ) {
    this.maxBacklog = opts.maxBacklog ?? MAX_BACKLOG;
    this.session = new BackupSession(cfg, dir, (level, m) => log(level, `${label}: ${m}`), { ...opts, stateFile: stateFileName(index, cfg.serverId) });
  }

  get backlog(): number {
    return this.queue.length;
  }

  /**
   * Whether this write starts the lane's chain again at a snapshot, known before it is queued
   * (nothing queued, and no chain head — a server new in the wrapper, a first run — or a
   * data_version that does not follow it): the copy is then taken while lightningd waits.
   */
  foreseesReupload(dv: number, writes: readonly string[]): boolean {
    return !this.needsSnapshot && this.queue.length === 0 && this.session.foreseesReupload(dv, writes);
  }

  get state(): LaneState {
    if (this.needsSnapshot) return 'restarting';
    if (this.lastError !== undefined) return 'away';
    return this.queue.length > BEHIND_AT ? 'behind' : 'current';
  }

  describe(): string {
    const s = this.state;
    const what =
      s === 'current'
        ? 'current'
        : s === 'behind'
          ? `behind by ${this.queue.length} increment(s)`
          : s === 'away'
            ? `away (${this.lastError}); ${this.queue.length} increment(s) waiting`
            : `starts again at a snapshot at the next write${this.lastError ? ` (${this.lastError})` : ''}`;
    return `${this.label} ${what}`;
  }

  /** Tell the operator when the lane's state changes in a way that matters. */
  private report(): void {
    const s = this.state;
    if (s === this.reported) return;
    if (s === 'current') this.log('info', `${this.label} is ${this.reported === 'behind' ? 'caught up' : 'back and current'} (data_version ${this.lastStored ?? '?'}).`);
    else this.log('warn', `${this.describe()}.`);
    this.reported = s;
  }

  /** Whether a snapshot taken now could be sent (the server answered lately). */
  reachable = true;
  private probing = false;

  /** After a restart: find out when the server answers again, before copying the database for it. */
  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    this.reachable = false;
    let pause = LANE_RETRY_MS;
    try {
      while (this.needsSnapshot && !this.closed) {
        try {
          await this.session.probe(LANE_ATTEMPT_MS);
          this.reachable = true;
          return;
        } catch {
          await new Promise((r) => setTimeout(r, pause));
          pause = Math.min(pause * 2, LANE_RETRY_MAX_MS);
        }
      }
    } finally {
      this.probing = false;
    }
  }

  private closed = false;

  enqueue(item: Item): void {
    if (this.queue.length >= this.maxBacklog || this.queuedBytes + item.bytes > MAX_BACKLOG_BYTES) {
      this.restart(`more than ${this.queue.length >= this.maxBacklog ? `${this.maxBacklog} increments` : `${MAX_BACKLOG_BYTES >> 20} MiB`} waiting`);
      item.snapshot?.dispose();
      return;
    }
    this.queue.push(item);
    this.queuedBytes += item.bytes;
    void this.pump();
  }

  /** Forget the queue: the server will get a snapshot at the next write instead. */
  restart(why: string): void {
    for (const it of this.queue) it.snapshot?.dispose();
    this.queue = [];
    this.queuedBytes = 0;
    this.needsSnapshot = true;
    this.lastError = why;
    this.report();
    void this.probe();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    let pause = LANE_RETRY_MS;
    try {
      while (this.queue.length > 0) {
        const item = this.queue[0]!;
        try {
          await this.session.write(item.dv, item.writes, {
            time: item.time,
            reupload: item.reupload,
            ...(item.snapshot ? { snapshot: item.snapshot } : {}),
            // Asked right before a copy: the other servers may have answered the hook meanwhile.
            canSnapshot: () => item.hook.open,
            deadlineMs: LANE_ATTEMPT_MS,
          });
        } catch (e) {
          if (this.queue[0] !== item) continue; // restarted meanwhile
          const message = e instanceof CldcbError ? e.message : 'unexpected error';
          if (e instanceof CldcbError && e.code === 'stale_state') {
            // lightningd runs on an older database than this server holds: never re-upload it
            // over the newer backup; lightningd must stop, as with one server.
            item.hook.refusal ??= e;
            item.hook.notify();
            this.lastError = message;
            this.queue.shift();
            this.queuedBytes -= item.bytes;
            item.snapshot?.dispose();
            continue;
          }
          if (e instanceof NeedsSnapshotError || !(e instanceof CldcbError) || ['integrity_failed', 'stale_state', 'file_not_found', 'bad_input', 'bad_length', 'internal', 'unsupported', 'protocol_error'].includes(e.code)) {
            this.restart(message);
            break;
          }
          this.lastError = message;
          this.report();
          await new Promise((r) => setTimeout(r, pause));
          pause = Math.min(pause * 2, LANE_RETRY_MAX_MS);
          continue;
        }
        pause = LANE_RETRY_MS;
        if (this.queue[0] === item) {
          this.queue.shift();
          this.queuedBytes -= item.bytes;
        }
        item.snapshot?.dispose();
        this.lastStored = item.dv;
        this.lastError = undefined;
        item.hook.stored++;
        item.hook.notify();
        this.report();
      }
    } finally {
      this.pumping = false;
    }
  }

  close(): void {
    this.closed = true;
    for (const it of this.queue) it.snapshot?.dispose();
    this.queue = [];
    this.session.close();
  }
}

/** `users` handles on one snapshot: the copy is deleted when the last of them is disposed. */
function shareSnapshot(s: Snapshot, users: number): Snapshot[] {
  let left = users;
  return Array.from({ length: users }, () => {
    let disposed = false;
    return {
      file: s.file,
      size: s.size,
      sha256: s.sha256,
      dataVersion: s.dataVersion,
      pieces: (size: number) => s.pieces(size),
      dispose: () => {
        if (disposed) return;
        disposed = true;
        if (--left === 0) s.dispose();
      },
    };
  });
}

/** The quorum writer: `write` resolves once k servers stored the write (module comment). */
export class QuorumBackup {
  private readonly lanes: Lane[];
  readonly quorum: number;
  readonly deadlineMs: number;

  constructor(
    cfg: PluginConfig,
    private readonly dir: string,
    private readonly log: Log,
    opts: QuorumOptions = {},
  ) {
    const servers = wrapperServers(cfg);
    this.quorum = wrapperQuorum(cfg);
    this.deadlineMs = opts.deadlineMs ?? DEADLINE_MS;
    // Sealed into each server's increments, so a recovery learns n, k and the servers from the
    // backup itself, not only from what the operator types (docs/PROTOCOL.md §5).
    const policy = wrapperPolicy(cfg);
    this.lanes = servers.map(
      (s, i) =>
        new Lane(i, `server ${i + 1} (${formatServerId(s.serverId).slice(0, 10)}...@${formatHostPort(s.server)})`, { ...s, nodeId: cfg.nodeId }, dir, log, { ...opts, policy }),
    );
  }

  /** Per server: label, state, last stored data_version, waiting increments. */
  get status(): { label: string; state: LaneState; lastStored: number | undefined; backlog: number; error: string | undefined }[] {
    return this.lanes.map((l) => ({ label: l.label, state: l.state, lastStored: l.lastStored, backlog: l.backlog, error: l.lastError }));
  }

  warmUp(): void {
    for (const l of this.lanes) l.session.warmUp();
  }

  /**
   * Let lagging servers finish what they have queued (lightningd let us go), for at most
   * `ms`. What is left is covered by the after-stop helper or the next start's re-upload.
   */
  async drain(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (this.lanes.some((l) => l.backlog > 0 && l.state !== 'restarting') && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  }

  close(): void {
    for (const l of this.lanes) l.close();
  }

  /**
   * Store one db_write on k servers.
   * @throws CldcbError when fewer than k stored it by the deadline: the caller fails the hook.
   */
  async write(dv: number, writes: readonly string[]): Promise<void> {
    const started = Date.now();
    const time = Math.floor(started / 1000);
    const bytes = writes.reduce((n, w) => n + w.length, 0);
    let wake: () => void = () => {};
    const hook: HookWait = { open: true, stored: 0, notify: () => wake() };
    try {
      // Lanes that start again at a snapshot with this write: one that restarted (and whose
      // server answers again), or one that foresees it (a new server, a gap). One copy serves
      // them all; it is synchronous up to its first await, so it is the database as lightningd
      // left it before this write, however long the uploads then take.
      const restarting = this.lanes.filter((l) => l.needsSnapshot && l.reachable);
      const foreseeing = this.lanes.filter((l) => l.foreseesReupload(dv, writes));
      let copies: Snapshot[] = [];
      let copyError: string | undefined;
      if (restarting.length + foreseeing.length > 0) {
        try {
          copies = shareSnapshot(await takeSnapshot(this.dir, snapshotDataVersion(dv, writes)), restarting.length + foreseeing.length);
        } catch (e) {
          copyError = (e as Error).message;
        }
      }
      for (const lane of this.lanes) {
        let snapshot: Snapshot | undefined;
        if (lane.needsSnapshot) {
          if (!lane.reachable) continue; // no copy for a server that does not answer yet
          snapshot = copies.pop();
          if (!snapshot) {
            this.log('warn', `${lane.label}: cannot copy the database for its re-upload (${copyError}); trying at the next write.`);
            continue;
          }
          lane.needsSnapshot = false;
          lane.enqueue({ dv, writes, time, bytes, reupload: true, snapshot, hook });
          continue;
        }
        // A foreseen re-upload goes the ordinary way (the session plans it) with the copy at hand.
        snapshot = foreseeing.includes(lane) ? copies.pop() : undefined;
        lane.enqueue({ dv, writes, time, bytes, reupload: false, ...(snapshot ? { snapshot } : {}), hook });
      }
      for (const c of copies) c.dispose();
      const deadline = started + this.deadlineMs;
      while (hook.stored < this.quorum && !hook.refusal) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      if (hook.refusal) throw hook.refusal;
      if (hook.stored >= this.quorum) return;
      throw new CldcbError(
        'server_unreachable',
        `data_version ${dv} was NOT backed up: ${hook.stored} of the ${this.quorum} servers needed stored it within ${Math.round((Date.now() - started) / 100) / 10} s — ${this.lanes.map((l) => l.describe()).join('; ')}.`,
      );
    } finally {
      hook.open = false;
    }
  }
}
