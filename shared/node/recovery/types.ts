/**
 * The recovery engine's public types: what the UI (and the CLI) pass in and get back.
 * Pure data (structured-clone / JSON friendly apart from the key bytes and AbortSignal).
 */
import type { RecoveryWarning } from './chain';
import type { RecognitionStatus } from './recognize';
import type { Freshness } from './freshness';

export type { RecoveryWarning, RecoveryWarningKind, WarningSeverity } from './chain';
export type { RecognitionStatus } from './recognize';
export type { Freshness, SourceFreshness, SourceOutcome } from './freshness';

/** Where backups come from. Online sources need `online: true` (the operator's explicit choice). */
export type RecoverySource =
  /** A copy of a server's data directory (ours or the original's): recognition_codes, clients, <cid>.arch, server_id. */
  | {
      readonly kind: 'serverDir';
      readonly dir: string;
      readonly label?: string;
      /** HOST[:PORT] for the fresh wrapper (the directory does not record the host; a missing port is taken from its `port` file). */
      readonly serverHost?: string;
    }
  /** One archive file, with the recognition codes file if there is one. */
  | { readonly kind: 'archive'; readonly archive: string; readonly recognitionCodes?: string; readonly label?: string; readonly serverId?: string; readonly serverHost?: string }
  /** A live server, `SID@HOST:PORT` (SID = 52…/53…). Contacted over Noise_XK only with `online: true`. */
  | { readonly kind: 'server'; readonly address: string; readonly proxy?: string; readonly label?: string };

export interface SearchInput {
  /** The node private key (from hsm_secret). Not zeroized by the engine: the caller owns it. */
  readonly nodePrivateKey: Uint8Array;
  readonly sources: readonly RecoverySource[];
  /** Must be true to contact any `server` source. */
  readonly online?: boolean;
  /**
   * Offline archives without a matching code are opened with the node key to see whether
   * they are ours. 'auto' (default): those without a code or with an invalid one, and every
   * archive when nothing else matched or the directory has ≤ 5,000 archives.
   */
  readonly probe?: 'auto' | 'missing' | 'all' | 'none';
  /** Where online downloads are kept while in use (default: the OS temp dir). */
  readonly scratchDir?: string;
  /** Run the heavy jobs in this thread (tests); default: worker threads. */
  readonly inline?: boolean;
  /** Worker threads for the recognition search (default: one per core). */
  readonly threads?: number;
  /** Derive the increments' stream keys on all cores before the rebuild (engine.ts PARALLEL_KEYS_MIN_BYTES). */
  readonly parallelKeys?: boolean;
  /** Rebuild in one pipelined pass on two cores (default); false: the two-pass rebuild in one thread. */
  readonly pipeline?: boolean;
}

export interface RecoverInput extends SearchInput {
  /** The lightning directory: the database goes to `<dir>/<databaseName>`, the wrapper beside it. */
  readonly lightningDir: string;
  /** Default `lightningd.sqlite3`. */
  readonly databaseName?: string;
  /** Choose this client id (`c…`) instead of the freshest. */
  readonly clientId?: string;
  /** Write a fresh `cldcb-plugin-wrapper` and the plugin's chain state `cldcb-plugin.state` (default true). */
  readonly writeWrapper?: boolean;
  /** argv of the plugin in the wrapper's exec line (default `['cldcb-plugin']`). */
  readonly wrapperCommand?: readonly string[];
  /**
   * Makes the wrapper text instead of the default (shared/cldcb/ids.ts formatPluginWrapper);
   * the CLI passes installplugin's, which runs our plugin by absolute path.
   */
  readonly makeWrapper?: (w: WrapperFields) => string;
  /** The operator's last known data_version of the node (from memory, logs, a monitoring tool). */
  readonly lastKnownDataVersion?: number;
  /** The operator's last known activity of the node (unix seconds). */
  readonly lastKnownTime?: number;
  /** Reuse a search made before (e.g. after the operator picked an entry); it is disposed at the end. */
  readonly search?: SearchResult;
}

/** What a fresh plugin wrapper needs (installplugin's WrapperSpec without the paths). */
export interface WrapperFields {
  /** The recovered client private key (cpk). */
  readonly clientPrivateKey: Uint8Array;
  readonly nodeId: Uint8Array;
  /** The recognition code, signed now with the node key. */
  readonly nodeSignature: Uint8Array;
  /** The server's 33-byte key (sid without the 0x50). */
  readonly serverKey: Uint8Array;
  readonly server: { readonly host: string; readonly port: number };
}

export interface ProgressOptions {
  readonly onEvent?: (e: RecoveryEvent) => void;
  readonly signal?: AbortSignal;
}

export type RecoveryStep = 'entries' | 'recognition' | 'probe' | 'download' | 'analysis' | 'rebuild' | 'wrapper';

export type RecoveryEvent =
  | { readonly type: 'step'; readonly step: RecoveryStep; readonly state: 'started' | 'done'; readonly ms?: number }
  | {
      readonly type: 'source';
      readonly source: number;
      readonly label: string;
      readonly state: 'reading' | 'connected' | 'listed' | 'failed';
      readonly records?: number;
      readonly archives?: number;
      readonly speaksV1?: boolean;
      readonly message?: string;
    }
  /** Recognition progress (cumulative over all sources). */
  | { readonly type: 'recognition'; readonly checked: number; readonly total: number; readonly ours: number; readonly notOurs: number; readonly invalid: number; readonly perSecond: number }
  /** One entry's status changed (ours, invalid; or an archive probed). For all statuses use SearchResult.sources[i].statuses. */
  | { readonly type: 'entry'; readonly source: number; readonly clientId: string | null; readonly status: RecognitionStatus; readonly via: 'code' | 'archive'; readonly index?: number; readonly line?: number }
  | { readonly type: 'download'; readonly source: number; readonly clientId: string; readonly messages: number; readonly bytes: number }
  | { readonly type: 'analysis'; readonly clientId: string; readonly source: number; readonly bytes: number; readonly total: number }
  | { readonly type: 'candidate'; readonly candidate: Candidate }
  | {
      readonly type: 'rebuild';
      readonly phase: 'scan' | 'replay' | 'check' | 'commit';
      readonly done: number;
      readonly total: number;
      readonly statements?: number;
      readonly bytes?: number;
      readonly check?: string;
    }
  | { readonly type: 'warning'; readonly warning: RecoveryWarning };

export interface SourceResult {
  readonly label: string;
  readonly kind: RecoverySource['kind'];
  /** Records listed (recognition_codes lines or message 4 records). */
  readonly records: number;
  /** Lines of recognition_codes that do not parse (counted as invalid). */
  readonly malformedLines: number;
  readonly archives: number;
  /** One status per record, by STATUS code (0 checking, 1 not ours, 2 ours, 3 invalid). */
  readonly statuses: Uint8Array;
  /** Client ids (c…) of the records, for a UI list; empty above 100,000 records (use `clientIdAt`). */
  readonly clientIds: string[];
  readonly speaksV1?: boolean;
  /** sid (52…/53…) of this server, when known. */
  readonly serverId?: string;
  readonly serverHost?: string;
  /** The port the server last listened on, from a server directory's `port` file (ours writes one). */
  readonly serverPort?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface Candidate {
  readonly clientId: string;
  readonly source: number;
  readonly sourceLabel: string;
  /** How it was found: its recognition code, or by opening its archive with the node key. */
  readonly via: 'code' | 'archive';
  readonly archivePath?: string;
  /** Set when the archive could not be read or must be refused. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly dataVersion?: number;
  /** data_version the snapshot was made for (the re-upload header); the snapshot is the state just before it. */
  readonly reuploadDataVersion?: number;
  /** unix seconds of the last increment. */
  readonly time?: number;
  /** v1: written in the sealed increment; mtime: the archive file's modification time (offline only). */
  readonly timeBasis?: 'v1' | 'mtime';
  readonly increments?: number;
  readonly incrementsStored?: number;
  readonly chain?: 'v1' | 'v0' | 'mixed' | 'none';
  /** The node's backup servers and quorum, as its chain seals them last (several servers). */
  readonly policy?: { readonly quorum: number; readonly serverIds: readonly string[] };
  readonly warnings: RecoveryWarning[];
  /**
   * What the server's own log (our server's `debug.log` in a server directory copy) says it last
   * stored for this backup; recovery reports the copy as stale when its archive ends before it.
   */
  readonly serverRecord?: { readonly dataVersion: number; readonly time?: number; readonly file: string };
  /** Internal: v1 read token for online download (hex). */
  readonly readToken?: string;
}

export interface SearchResult {
  readonly sources: SourceResult[];
  readonly candidates: Candidate[];
  /** Index into candidates of the freshest usable one (−1: none). */
  readonly freshest: number;
  readonly warnings: RecoveryWarning[];
  readonly timings: { readonly step: string; readonly ms: number }[];
  /** Candidates whose history forks from the freshest one's (compared while analysing: freshness.ts). */
  readonly forks?: Freshness['diverged'];
  /** Internal: downloaded archives to remove (disposeSearch). */
  readonly scratch: string[];
}

export const STALE_ADVICE =
  'Running lightningd on a stale database can lose funds: the old channel states can be punished. Use the SCB path (cldcb-client scb) instead.';

export interface RecoveryVerdict {
  /** Rebuilt, checked, written, and nothing suggests it is stale. */
  readonly ok: boolean;
  readonly nodeId: string;
  readonly clientId: string;
  readonly source: { readonly index: number; readonly label: string; readonly kind: RecoverySource['kind'] };
  readonly via: 'code' | 'archive';
  readonly dataVersion: number;
  /** Time of the last increment (unix seconds), and where it comes from. */
  readonly time?: number;
  readonly timeBasis?: 'v1' | 'mtime';
  readonly increments: number;
  readonly incrementsStored: number;
  readonly statements: number;
  readonly snapshotDataVersion: number;
  readonly reuploadDataVersion: number;
  readonly chain: 'v1' | 'v0' | 'mixed' | 'none';
  readonly integrity: string[];
  readonly foreignKeyViolations: number;
  readonly foreignKeyTables: string[];
  readonly database: { readonly path: string; readonly bytes: number };
  readonly wrapper?: { readonly path: string; readonly serverId: string; readonly serverHost: string };
  /**
   * `cldcb-plugin.state` written beside the database: the chain head the backup ends at, so the
   * node's next increment continues this backup's chain (absent: not written; a warning says why).
   */
  readonly pluginState?: { readonly path: string; readonly dataVersion: number };
  /**
   * When no wrapper could be written (the server's id or address is unknown): the backup's client
   * key, saved as a `newclient` key file for `cldcb-client installplugin --client-privkey`.
   */
  readonly clientKeyFile?: string;
  /**
   * What the operator must do before and when starting lightningd, in order, as plain sentences
   * with the exact commands and paths (the wrapper to enable, or the installplugin command that
   * makes it; what to do with a stale database). The last one is engine.ts NEVER_AGAIN (empty with `writeWrapper: false`: a drill).
   */
  readonly nextSteps: string[];
  readonly timings: { readonly step: string; readonly ms: number }[];
  readonly warnings: RecoveryWarning[];
  readonly candidates: Candidate[];
  readonly stale: boolean;
  readonly staleReasons: string[];
  /** Whether the sources prove this is the node's newest state, and each source's outcome (freshness.ts). */
  readonly freshness: Freshness;
  /** Each source's label and server id (52…/53…), in the order of `freshness.sources`. */
  readonly sourceLabels?: string[];
  readonly sourceServerIds?: (string | undefined)[];
  /** The plain sentence, when stale. */
  readonly staleAdvice?: string;
  readonly lastKnownDataVersion?: number;
  readonly lastKnownTime?: number;
  /** unix seconds when the recovery finished. */
  readonly finishedAt: number;
}
