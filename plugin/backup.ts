/**
 * Backs up each db_write to the cldcb server before lightningd commits it
 * (cldcb-protocol §3.3, §5, §7; docs/PROTOCOL.md §2–§3).
 *
 * Per db_write:
 *  1. Connect if needed (Noise, recognition code, extension probe — shared/node/cldcbClient.ts).
 *  2. Plan the increment (v1 plaintext: data_version, time, prev, statements) — see `plan`.
 *  3. Seal it, split into ≤ 64,887-byte pieces, so writes of any size fit (the original
 *     crashed at 64,887 bytes). With an original server: a fresh Sealer per db_write (one
 *     stream each, as the original plugin). With our server (extension v1): the increment
 *     continues the stream of the last increment this connection stored (a continued
 *     message, shared/cldcb/seal.ts), so recovery does one ECDH and signature check per
 *     stream instead of per write. A new stream starts on every new connection, every
 *     re-upload and after any failure: a continued message is only ever sealed when the
 *     server acknowledged the increment that started its stream on this very connection,
 *     so the stream's start is stored before anything continues it.
 *  4. Upload; when the server asks for a re-upload (36), send a consistent snapshot of
 *     lightningd.sqlite3 (plugin/snapshot.ts) sealed in a second stream.
 *  5. Only after the server's acknowledgement (38): save the chain head (plugin/chainState.ts)
 *     and tell lightningd to continue.
 *
 * Failure handling (fail closed): connect/upload errors are retried with backoff
 * (RETRY_BACKOFF_MS, doubling up to MAX_BACKOFF_MS) while DEADLINE_MS has not passed since
 * the db_write arrived; an attempt that is still making progress (each message is sent or
 * answered within its timeout) may finish after the deadline. Then the write fails: the
 * caller answers lightningd with an error, so lightningd does not commit and stops. No
 * background loop runs between writes: a server that is away costs nothing until the next
 * write. After any failure the connection is dropped and the next attempt reconnects.
 *
 * Repeated data_version (PROTOCOL.md §2, cldcb-protocol §8.2a). lightningd reports calls made
 * outside a transaction (`PRAGMA foreign_keys = OFF/ON` around table rebuilds) with the same
 * data_version as the call before, and redoes a data_version when it crashed after the
 * hook but before COMMIT (such a redo carries the data_version bump).
 *  - Our server (extension v1 advertised) never truncates: every call is sent as its own
 *    increment; the recovering client keeps repeats without the bump and lets a redo
 *    replace the increment whose prev it repeats.
 *  - An original server replaces the last increment on a repeated data_version. So a
 *    repeat without the bump is sent as the previous increment's statements followed by
 *    the new ones (kept in memory: `last`), with the previous increment's prev. After a
 *    plugin restart the previous statements are unknown. If the new call holds only
 *    `PRAGMA foreign_keys` statements — a connection setting, no stored data — it is not
 *    sent on its own (that would make the server drop the previous increment); it is
 *    answered at once and its statements lead the next increment. lightningd ran them
 *    outside a transaction right before that next transaction, so a replayer that runs an
 *    increment's leading PRAGMA statements before BEGIN and trailing ones after COMMIT
 *    (test/node/helpers/replay.ts) reproduces lightningd's sequence exactly; if lightningd
 *    stops before a next call, only a connection setting is lost. Any other repeat whose
 *    previous statements are unknown fails closed (it cannot happen with lightningd's
 *    commit logic, and sending it would lose the previous increment).
 *
 * Stale database guard: a data_version more than one step below the last backed-up one means
 * lightningd runs on an older copy of its database; the write is refused (see `plan`) rather
 * than re-uploading that copy over the newer backup. Deleting the state file accepts it.
 *
 * Chain (PROTOCOL.md §3): prev = SHA-256 of the previous increment's plaintext; a redo
 * carries the prev of the increment it replaces; the first increment after a re-upload
 * carries SHA256("cldcb snapshot" ‖ header36 ‖ SHA256(snapshot)). The increment is sealed
 * and sent before the server says whether it wants a re-upload, so:
 *  - when the plugin knows a re-upload is due (no chain head: first run or lost state; a
 *    data_version gap or rewind), it takes the snapshot first and chains to it;
 *  - when the server asks unexpectedly (its archive is missing or damaged, its increment
 *    limit, our server's "increments outgrew the snapshot"), the plugin leaves before
 *    `reupload_end` — the server stores nothing and rolls back — and immediately repeats
 *    the upload, now snapshot first.
 * A re-sent attempt after an unknown outcome (the connection died before the
 * acknowledgement) carries byte-identical plaintext, so a server that did store the first
 * copy holds an exact duplicate, which is harmless to replay.
 */
import { bytesToHex, zeroize } from '../shared/bytes';
import { CldcbError } from '../shared/errors';
import type { PluginConfig } from '../shared/cldcb/wrapper';
import { formatClientId } from '../shared/cldcb/ids';
import { WRAPPER_DEADLINE_DEFAULT_S } from '../shared/cldcb/wrapper';
import { encodeReuploadHeader, REUPLOAD_PIECE_SIZE, splitIncrementPlaintext } from '../shared/cldcb/plaintexts';
import { nobleBoxCrypto, Sealer, type BoxCrypto } from '../shared/cldcb/seal';
import { CldcbClient, readToken, readVerifier, type ClientLogLevel, type ReuploadSource, type UploadOutcome } from '../shared/node/cldcbClient';
import { nativeBoxCrypto } from '../shared/node/nativeSeal';
import { ChainStateFile, type ChainHead } from './chainState';
import type { IncrementEvents } from '../shared/cldcb/plaintexts';
import { STATE_FILE, stateBinding } from '../shared/node/pluginState';
import {
  encodeIncrementV1,
  encodeIncrementV2,
  isDataVersionBump,
  isForeignKeysPragma,
  sha256,
  snapshotChainValue,
  u32Next,
  u32Prev,
} from './increment';
import { cleanStaleSnapshots, takeSnapshot, type Snapshot } from './snapshot';

/** Give up on a db_write when no attempt succeeded within this time (ms); the wrapper's `# deadline` overrides it. */
export const DEADLINE_MS = WRAPPER_DEADLINE_DEFAULT_S * 1000;
/** First pause between attempts; doubles up to MAX_BACKOFF_MS. */
export const RETRY_BACKOFF_MS = 250;
export const MAX_BACKOFF_MS = 5000;
/** The last attempt starts this long before the deadline (its connect gets at most that long). */
const LAST_ATTEMPT_MS = 500;
/** TCP connect and each handshake act. */
export const CONNECT_TIMEOUT_MS = 5000;
/** Each reply / each sent message. */
export const REPLY_TIMEOUT_MS = 20_000;
/** An attempt that is making progress gets at least this much per message after the deadline. */
const PROGRESS_FLOOR_MS = 5000;
/** File beside lightningd.sqlite3 holding the chain head (format: shared/node/pluginState.ts). */
export { STATE_FILE };

export type Log = (level: ClientLogLevel, message: string) => void;

export interface BackupOptions {
  /** Overrides for tests and benchmarks (DEADLINE_MS etc. otherwise). */
  readonly deadlineMs?: number;
  readonly connectTimeoutMs?: number;
  readonly replyTimeoutMs?: number;
  /** Unix time in seconds (tests). */
  readonly now?: () => number;
  /** The chain head's file in the directory (default STATE_FILE; pluginState.ts stateFileName). */
  readonly stateFile?: string;
  /** Several servers: the policy sealed into this server's increments (plaintext v2 `servers`). */
  readonly policy?: IncrementEvents['servers'];
}

/** How one write is made (the defaults are the one-server plugin's). */
export interface WriteOptions {
  /** The increment's time (unix seconds): when lightningd asked, for every server alike. */
  readonly time?: number;
  /** Start the chain again at a snapshot, and ask our server to take it (a server catching up). */
  readonly reupload?: boolean;
  /** The snapshot to use (taken while lightningd waited); the caller keeps ownership. */
  readonly snapshot?: Snapshot;
  /**
   * Whether lightningd still waits for this write, so its database may be copied now (false:
   * a server catching up in the background — a re-upload it needs throws NeedsSnapshotError).
   * A function is asked right before the copy, with no await in between: a server of several
   * may connect for seconds while the others answer the hook and lightningd commits, and a
   * copy taken then is of another data_version or, worse, torn by lightningd's writes.
   */
  readonly canSnapshot?: boolean | (() => boolean);
  readonly deadlineMs?: number;
}

/**
 * A re-upload is needed but lightningd's database has moved on since this write: the snapshot
 * must be taken during a later db_write (plugin/quorum.ts).
 */
export class NeedsSnapshotError extends CldcbError {
  constructor(dv: number) {
    super('unsupported', `data_version ${dv}: a re-upload is needed, and lightningd's database has moved on; it is taken at the next write.`);
  }
}

interface UploadPlan {
  readonly kind: 'upload';
  /** Statements of the increment to send. */
  readonly body: string[];
  /** Needs a snapshot first (re-upload due); prev is then the snapshot chain value. */
  readonly reupload: boolean;
  /** prev for a non-reupload plan. */
  readonly prev?: Uint8Array;
  /** runPrev of the new chain head (undefined: = prev). */
  readonly runPrev?: Uint8Array;
  /** data_version the snapshot must be at. */
  readonly snapshotDv?: number;
  /**
   * Ask the server for the re-upload (our server; extension v1): we have no chain head, so an
   * increment the server appended to its archive could not be chained to it (issue 10 defect 1).
   */
  readonly askReupload?: boolean;
  /** Events to seal with it (plaintext v2): a stop, an unanchored link. */
  readonly events?: IncrementEvents;
  readonly why: string;
}
type Plan = UploadPlan | { readonly kind: 'defer'; readonly why: string };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The data_version lightningd's database file is at while it waits in the hook for this call:
 * one below for a transaction (its bump is not committed yet), the same for a call made
 * outside a transaction (PRAGMA foreign_keys).
 */
export function snapshotDataVersion(dv: number, writes: readonly string[]): number {
  return writes.some(isDataVersionBump) ? u32Prev(dv) : dv;
}

/** Errors that another attempt cannot fix. */
function isPermanent(e: unknown): boolean {
  return e instanceof CldcbError && ['integrity_failed', 'stale_state', 'file_not_found', 'bad_input', 'bad_length', 'internal', 'unsupported'].includes(e.code);
}

export class BackupSession {
  private client: CldcbClient | undefined;
  private connecting: Promise<CldcbClient> | undefined;
  private readonly state: ChainStateFile;
  /** Statements of the last increment stored by this process (for original-server merges). */
  private last: { dataVersion: number; statements: string[] } | undefined;
  /** PRAGMA-only calls held for the next increment (original server, after a restart). */
  private pendingPragmas: string[] = [];
  private readonly verifierSent = new WeakSet<CldcbClient>();
  /** The sealed stream increments continue (extension v1): its start is stored by `client`. */
  private stream: { sealer: Sealer; client: CldcbClient } | undefined;
  private readonly verifier: Uint8Array;
  private readonly crypto: BoxCrypto;
  private readonly serverName: string;
  readonly deadlineMs: number;
  private readonly connectTimeoutMs: number;
  private readonly replyTimeoutMs: number;
  private readonly now: () => number;
  private closed = false;
  private readonly policy: IncrementEvents['servers'] | undefined;
  private policyPending = true;

  constructor(
    private readonly cfg: PluginConfig,
    private readonly dir: string,
    private readonly log: Log,
    opts: BackupOptions = {},
  ) {
    this.deadlineMs = opts.deadlineMs ?? DEADLINE_MS;
    this.policy = opts.policy;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.replyTimeoutMs = opts.replyTimeoutMs ?? REPLY_TIMEOUT_MS;
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    let crypto: BoxCrypto;
    try {
      crypto = nativeBoxCrypto();
    } catch {
      crypto = nobleBoxCrypto;
    }
    this.crypto = crypto;
    this.serverName = cfg.server.host.includes(':') ? `[${cfg.server.host}]:${cfg.server.port}` : `${cfg.server.host}:${cfg.server.port}`;
    const s = this.crypto.secp.ecdhHash(cfg.clientPrivateKey, cfg.nodeId);
    const t = readToken(s);
    this.verifier = readVerifier(t);
    zeroize(s, t);
    cleanStaleSnapshots(dir);
    const binding = stateBinding(cfg.clientId, cfg.serverId);
    this.state = new ChainStateFile(`${dir}/${opts.stateFile ?? STATE_FILE}`, binding, (m) => this.log('warn', m));
  }

  /** The last acknowledged increment (from the state file, then from this run). */
  get chainHead(): ChainHead | undefined {
    return this.state.current;
  }

  /**
   * Whether storing this call will start the chain again at a snapshot (no chain head, or
   * lightningd's data_version does not follow it): the caller can then copy the database while
   * lightningd waits and pass it in (plugin/quorum.ts). The same rule as the write itself (`plan`).
   */
  foreseesReupload(dv: number, writes: readonly string[]): boolean {
    try {
      const p = this.plan(dv, writes, true, false);
      return p.kind === 'upload' && p.reupload;
    } catch {
      return false; // refused (stale_state): the write itself says so
    }
  }

  /** Connect (or keep the connection) within `timeoutMs`. @throws CldcbError when the server does not answer. */
  async probe(timeoutMs: number): Promise<void> {
    await this.connect(timeoutMs);
  }

  /** Connect in the background at startup (as the original); a failure is only logged. */
  warmUp(): void {
    this.connect(this.connectTimeoutMs).catch((e: unknown) => {
      this.log('warn', `Not connected yet: ${(e as Error).message} Will try again when lightningd writes.`);
    });
  }

  close(): void {
    this.closed = true;
    this.endStream();
    this.client?.close();
    this.client = undefined;
    this.state.close();
  }

  private connect(timeoutMs: number): Promise<CldcbClient> {
    if (this.client && !this.client.closed) return Promise.resolve(this.client);
    this.connecting ??= CldcbClient.connect({
      host: this.cfg.server.host,
      port: this.cfg.server.port,
      serverKey: this.cfg.serverId,
      clientPrivateKey: this.cfg.clientPrivateKey,
      ...(this.cfg.proxy ? { proxy: this.cfg.proxy } : {}),
      connectTimeoutMs: timeoutMs,
      replyTimeoutMs: this.replyTimeoutMs,
      recognitionCode: this.cfg.nodeSignature,
      probe: true,
      onLog: (level, message) => this.log(level, message),
    })
      .then((c) => {
        if (this.closed) {
          c.close();
          throw new CldcbError('cancelled', 'The plugin is shutting down.');
        }
        this.client = c;
        this.log(
          'info',
          `Connected to the cldcb server at ${this.serverName} as ${formatClientId(this.cfg.clientId)} (${c.supportsExtension ? `extension v${c.extensionVersion}` : 'original protocol'}).`,
        );
        return c;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private dropConnection(): void {
    this.client?.close();
    this.client = undefined;
    this.endStream();
  }

  private endStream(): void {
    this.stream?.sealer.dispose();
    this.stream = undefined;
  }

  /**
   * Decide what to send for this call (see the module comment).
   * @throws CldcbError integrity_failed for a repeat that cannot be sent without loss.
   */
  private plan(dv: number, writes: readonly string[], extension: boolean, forceReupload: boolean): Plan {
    const hasBump = writes.some(isDataVersionBump);
    const body = [...this.pendingPragmas, ...writes];
    const snapshotDv = snapshotDataVersion(dv, writes);
    const st = this.state.current;
    if (forceReupload) return { kind: 'upload', body, reupload: true, snapshotDv, why: 'the server asked for a re-upload' };
    if (!st)
      return {
        kind: 'upload',
        body,
        reupload: true,
        askReupload: true,
        snapshotDv,
        // An original server cannot be asked: if it keeps its archive and appends this, the link
        // to the increment before is unknown — say so, sealed, so the backup stays restorable.
        ...(extension ? {} : { events: { unanchored: true } }),
        why: 'no chain head yet (first run, or the state file was lost)',
      };
    if (dv === u32Next(st.dataVersion)) return { kind: 'upload', body, reupload: false, prev: st.head, why: 'next data_version' };
    if (dv !== st.dataVersion) {
      const back = (st.dataVersion - dv + 0x100000000) % 0x100000000;
      // One step back is lightningd's own restart after a crash between the hook and COMMIT
      // (its first call may be a PRAGMA at the committed version). More means lightningd now
      // runs on an older database than the one backed up: running on stale channel state can
      // lose funds, and the re-upload would replace the newer backup on the server.
      if (back >= 2 && back < 0x80000000)
        throw new CldcbError(
          'stale_state',
          `lightningd's database is at data_version ${dv}, older than the last backed-up data_version ${st.dataVersion}: it was replaced by an older copy. Running on stale channel state can lose funds, and backing it up would replace the newer backup. If this is a mistake, stop lightningd and restore with \`cldcb-client recover\`. If it is intended (a new database), delete ${STATE_FILE} in lightningd's network directory to start a new backup chain.`,
        );
      return { kind: 'upload', body, reupload: true, snapshotDv, why: `data_version ${dv} does not follow ${st.dataVersion} (lightningd's database was replaced or restored)` };
    }
    // Repeated data_version.
    if (hasBump) return { kind: 'upload', body, reupload: false, prev: st.runPrev, runPrev: st.runPrev, why: 'redo of an uncommitted transaction' };
    if (extension) return { kind: 'upload', body, reupload: false, prev: st.head, runPrev: st.runPrev, why: 'more writes at the same data_version' };
    if (this.last && this.last.dataVersion === dv)
      return {
        kind: 'upload',
        body: [...this.last.statements, ...body],
        reupload: false,
        prev: st.runPrev,
        runPrev: st.runPrev,
        why: 'more writes at the same data_version, merged with the previous increment (the original server replaces it)',
      };
    if (writes.length > 0 && writes.every(isForeignKeysPragma))
      return { kind: 'defer', why: 'PRAGMA foreign_keys at a repeated data_version whose previous statements are unknown after a restart (original server); held for the next increment' };
    throw new CldcbError(
      'integrity_failed',
      `lightningd repeated data_version ${dv} with statements other than PRAGMA foreign_keys, and this plugin no longer knows the previous increment's statements (it restarted): the original cldcb server would replace that increment and lose its writes.`,
    );
  }

  /**
   * Back up one db_write. Resolves once the server acknowledged it (or it was deferred).
   * @throws CldcbError when the write is not backed up: the caller must fail the hook.
   */
  async write(dv: number, writes: readonly string[], opts: WriteOptions = {}): Promise<void> {
    if (!Number.isInteger(dv) || dv < 0 || dv > 0xffffffff) throw new CldcbError('bad_input', `data_version ${String(dv)} is not a u32.`);
    return this.store(
      dv,
      (extension, forceReupload) => {
        if (opts.reupload && !forceReupload)
          return { kind: 'upload', body: [...this.pendingPragmas, ...writes], reupload: true, askReupload: true, snapshotDv: snapshotDataVersion(dv, writes), why: 'this server catches up' };
        const plan = this.plan(dv, writes, extension, forceReupload);
        if (plan.kind === 'defer') this.pendingPragmas.push(...writes);
        return plan;
      },
      opts,
    );
  }

  /**
   * After lightningd stopped (plugin/afterStop.ts): make the backup hold lightningd's final
   * database at `dv`, the data_version its file ended at, which is newer than our chain head
   * when lightningd committed writes after it released this plugin. Only with our server
   * (extension v1): a re-upload it is asked for, of the file as lightningd left it, chained to
   * by an increment without statements. An original server cannot be asked; there the next
   * start of lightningd sees the gap and re-uploads (plan: "does not follow").
   * @returns whether the backup now ends at `dv`.
   * @throws CldcbError when the upload failed (the backup is unchanged).
   */
  async storeFinalDatabase(dv: number): Promise<'stored' | 'original_server'> {
    let skipped = false;
    await this.store(dv, (extension) => {
      if (!extension) {
        skipped = true;
        return { kind: 'defer', why: 'an original server cannot be asked for a re-upload' };
      }
      return {
        kind: 'upload',
        body: [],
        reupload: true,
        askReupload: true,
        snapshotDv: dv,
        events: { stop: 'stopped' },
        why: 'lightningd committed writes after it let the plugin go at shutdown',
      };
    });
    return skipped ? 'original_server' : 'stored';
  }

  /**
   * Mark the node's stop in the backup (plaintext v2 `stop` event; docs/PROTOCOL.md §4): an
   * increment without statements at the chain head's data_version — `stopping` when lightningd
   * let the plugin go, `stopped` when its final database was found to be the head. Only with our
   * server: an original one replaces the last increment on a repeated data_version.
   * @returns whether it was stored.
   */
  async storeStopMarker(stop: 'stopping' | 'stopped'): Promise<boolean> {
    const st = this.state.current;
    if (!st) return false;
    let stored = true;
    await this.store(st.dataVersion, (extension) => {
      if (!extension) {
        stored = false;
        return { kind: 'defer', why: 'an original server replaces the last increment on a repeated data_version: no stop marker' };
      }
      return { kind: 'upload', body: [], reupload: false, prev: st.head, runPrev: st.runPrev, events: { stop }, why: `the node's stop (${stop})` };
    });
    return stored;
  }

  /** Store one increment at `dv` as `planFor` decides, within the deadline (module comment). */
  private async store(dv: number, planFor: (extension: boolean, forceReupload: boolean) => Plan, opts: WriteOptions = {}): Promise<void> {
    const started = Date.now();
    const deadline = started + (opts.deadlineMs ?? this.deadlineMs);
    const time = opts.time ?? this.now();
    let forceReupload = false;
    let backoff = RETRY_BACKOFF_MS;
    let attempts = 0;
    let finalAttempt = false;
    let snapshot: Snapshot | undefined = opts.snapshot;
    let lastError: unknown;
    const remaining = (floor: number, cap: number): number => Math.min(cap, Math.max(floor, deadline - Date.now()));
    try {
      for (;;) {
        attempts++;
        try {
          const client = await this.connect(remaining(LAST_ATTEMPT_MS, this.connectTimeoutMs));
          const plan = planFor(client.supportsExtension, forceReupload);
          if (plan.kind === 'defer') {
            this.log('info', `data_version ${dv}: ${plan.why}.`);
            return;
          }
          if (plan.reupload && !snapshot) {
            if ((typeof opts.canSnapshot === 'function' ? opts.canSnapshot() : opts.canSnapshot) === false) throw new NeedsSnapshotError(dv);
            snapshot = await takeSnapshot(this.dir, plan.snapshotDv!);
          }
          const result = await this.upload(client, dv, time, plan, snapshot, remaining(PROGRESS_FLOOR_MS, this.replyTimeoutMs));
          if (result === 'retry_with_reupload') {
            if (forceReupload) throw new CldcbError('protocol_error', `The cldcb server at ${this.serverName} asked for a re-upload twice in a row.`);
            forceReupload = true;
            this.log('info', `data_version ${dv}: the server asked for a re-upload; sending the database snapshot first.`);
            continue;
          }
          return;
        } catch (e) {
          lastError = e;
          this.dropConnection();
          if (isPermanent(e) || this.closed) throw e;
          // The deadline is the operator's number (wrapper `# deadline`): keep trying until it,
          // with the last attempt LAST_ATTEMPT_MS before it, rather than giving up a whole
          // backoff step early (measured before: 27.8 s for a documented 30 s).
          const left = deadline - Date.now();
          if (finalAttempt || left <= 0) break;
          let wait = Math.min(backoff, MAX_BACKOFF_MS);
          if (wait >= left - LAST_ATTEMPT_MS) {
            wait = Math.max(0, left - LAST_ATTEMPT_MS);
            finalAttempt = true;
          }
          this.log('warn', `data_version ${dv}: attempt ${attempts} failed (${(e as Error).message}); ${finalAttempt ? 'last try' : 'retrying'} in ${wait} ms.`);
          await sleep(wait);
          backoff *= 2;
        }
      }
    } finally {
      if (snapshot !== opts.snapshot) snapshot?.dispose();
    }
    const why = lastError instanceof CldcbError ? lastError.message : 'unexpected error';
    throw new CldcbError(
      lastError instanceof CldcbError && lastError.code === 'timeout' ? 'timeout' : 'server_unreachable',
      `data_version ${dv} was NOT backed up after ${attempts} attempt${attempts > 1 ? 's' : ''} in ${Math.round((Date.now() - started) / 100) / 10} s: ${why}`,
      { cause: lastError },
    );
  }

  private async upload(
    client: CldcbClient,
    dv: number,
    time: number,
    plan: UploadPlan,
    snapshot: Snapshot | undefined,
    timeoutMs: number,
  ): Promise<'done' | 'retry_with_reupload'> {
    let header: Uint8Array | undefined;
    let prev: Uint8Array;
    if (plan.reupload) {
      header = encodeReuploadHeader(this.cfg.clientPrivateKey, dv);
      prev = snapshotChainValue(header, snapshot!.sha256);
    } else prev = plan.prev!;
    try {
      // The backup's servers ride on this server's first increment of the run and after each
      // re-upload (several servers only: one server stays plaintext v1).
      const servers = this.policy && (this.policyPending || plan.reupload) ? this.policy : undefined;
      const events: IncrementEvents | undefined = plan.events || servers ? { ...plan.events, ...(servers ? { servers } : {}) } : undefined;
      const pt = events ? encodeIncrementV2(dv, time, prev, plan.body, events) : encodeIncrementV1(dv, time, prev, plan.body);
      // Continue this connection's stream only when no re-upload is involved (a re-upload
      // replaces the archive, and with it the increment that started the stream).
      const continued = !plan.reupload && client.supportsExtension && this.stream?.client === client ? this.stream.sealer : undefined;
      if (!continued) this.endStream();
      const sealer = continued ?? new Sealer(this.cfg.clientPrivateKey, this.cfg.nodeId, { crypto: this.crypto });
      // The next chain head goes to disk while the increment travels (chainState.ts "When") —
      // only for a transaction (it carries the data_version bump): lightningd commits none
      // without our answer, and redoes it after a crash, so a staged head that was never
      // stored is harmless. A call outside a transaction (PRAGMA) is saved after the answer.
      const next = { dataVersion: dv, head: sha256(pt), runPrev: plan.runPrev ?? prev };
      const early = plan.body.some(isDataVersionBump);
      const staging = early
        ? this.state.stage(next).then(
            () => undefined,
            (e: unknown) => e as Error,
          )
        : Promise.resolve(undefined);
      let outcome: UploadOutcome;
      let chunks: Uint8Array[];
      try {
        chunks = splitIncrementPlaintext(pt).map((p, i) => (i === 0 && continued ? sealer.sealContinued(p) : sealer.seal(p)));
        const source: ReuploadSource | undefined = plan.reupload ? () => this.reuploadChunks(header!, snapshot!) : undefined;
        outcome = await client.uploadIncrement(dv, chunks, { timeoutMs, ...(source ? { reupload: source } : {}), ...(plan.askReupload ? { askReupload: true } : {}) });
      } catch (e) {
        if (continued) this.endStream();
        else sealer.dispose();
        await staging;
        await this.state.unstage();
        throw e;
      }
      if (outcome === 'reupload_requested') {
        if (continued) this.endStream();
        else sealer.dispose();
        await staging;
        await this.state.unstage();
        return 'retry_with_reupload';
      }
      const stageError = await staging;
      // Stored: the stream's start is on the server, later increments on this connection may continue it.
      if (client.supportsExtension) this.stream = { sealer, client };
      else sealer.dispose();
      if (plan.reupload && outcome === 'stored')
        this.log(
          'warn',
          `data_version ${dv}: a re-upload was due (${plan.why}) but the server kept its archive; recovery will report the chain as broken at this data_version until the next re-upload.`,
        );
      if (outcome === 'stored_with_reupload') this.log('info', `data_version ${dv}: re-uploaded the database (${snapshot!.size} bytes) to ${this.serverName}.`);
      if (servers) this.policyPending = false;
      this.last = { dataVersion: dv, statements: plan.body };
      this.pendingPragmas = [];
      let saveError = stageError;
      if (early) this.state.commit(next);
      else
        try {
          this.state.save(next);
        } catch (e) {
          saveError = e as Error;
        }
      if (saveError) this.log('warn', `${saveError.message} The backup itself is stored; after a restart the chain restarts at a re-upload.`);
      this.log('debug', `data_version ${dv}: stored (${plan.body.length} statements, ${pt.length} bytes in ${chunks.length} chunk${chunks.length > 1 ? 's' : ''}; ${plan.why}).`);
      if (client.supportsExtension && !this.verifierSent.has(client)) await this.sendVerifier(client, timeoutMs);
      return 'done';
    } finally {
      zeroize(header);
    }
  }

  private async *reuploadChunks(header: Uint8Array, snapshot: Snapshot): AsyncIterable<Uint8Array> {
    const sealer = new Sealer(this.cfg.clientPrivateKey, this.cfg.nodeId, { crypto: this.crypto });
    try {
      yield sealer.seal(header);
      for await (const piece of snapshot.pieces(REUPLOAD_PIECE_SIZE)) yield sealer.seal(piece);
    } finally {
      sealer.dispose();
    }
  }

  /** Extension v1 read protection (PROTOCOL.md §3); a failure never fails the write. */
  private async sendVerifier(client: CldcbClient, timeoutMs: number): Promise<void> {
    try {
      await client.setReadVerifier(this.verifier, timeoutMs);
      this.verifierSent.add(client);
      this.log('debug', `Read protection set on ${this.serverName} (verifier ${bytesToHex(this.verifier).slice(0, 8)}…).`);
    } catch (e) {
      this.dropConnection();
      this.log('warn', `Could not set read protection on ${this.serverName} (${(e as Error).message}); will try again on the next connection.`);
    }
  }
}
