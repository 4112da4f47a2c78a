/**
 * The one typed IPC contract between the renderer and the backend (style.md §1).
 * Each channel: an input schema (zod — every input arrives as `unknown` and is
 * parsed in the backend) and an output type. The renderer calls
 * `window.api.<group>.<name>(input)` and always gets a `Result<Output>`.
 *
 * Secrets stay in the backend: the renderer sends what the operator typed or
 * dropped, and receives the node id and descriptions — never secret bytes,
 * except where the operator asked to *see* the secret (codex32 / words).
 * Binary data crosses as base64 strings (JSON-safe for Electron and Playwright).
 */
import { z } from 'zod';
import type { Result } from '../errors';
import type { Network, RecoveryProgress, ScbChannel, ScbSource, WalkthroughStep } from '../scb';
import type { MacaroonInspection, RuneInspection } from '../credentials';
import type { AfterRecoveryStep } from '../recovery/afterRecovery';
import { MAX_RECOVERY_SOURCES, MAX_SERVERS } from '../cldcb/quorum';

/** Phantom value carrying an output type. */
const out = <T>(): T => undefined as unknown as T;

const b64 = z
  .string()
  .max(16 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const passphrase = z.string().max(1024).optional();
const hex66 = z.string().regex(/^0[23][0-9a-fA-F]{64}$/, 'a 66-hex-digit node id starting 02 or 03');
const jobId = z.string().regex(/^job-[0-9]+$/);
const printed = out<{ printed: true } | null>();
/** The servers (SID@HOST:PORT, one per row) and k, as typed: shared/cldcb/install.ts judges them. */
const installChoice = z
  .object({ servers: z.array(z.string().max(300)).min(1).max(MAX_SERVERS), quorum: z.string().max(20).optional() })
  .strict();
/** A row of the Recover screen's source list (its stable key). */
const sourceSlot = z.number().int().min(0).max(1_000_000);
const installServerIndex = z.object({ server: z.number().int().min(0).max(MAX_SERVERS - 1).optional() }).strict();

export type SecretFormat = 'plain' | 'encrypted' | 'mnemonic' | 'mnemonic-passphrase';
export type SecretSource = 'file' | 'hex' | 'words' | 'codex32';

/** What the renderer may know about the loaded secret. */
export interface SecretInfo {
  nodeId: string;
  format: SecretFormat;
  source: SecretSource;
  /** 32 (legacy) or 64 (BIP39 seed of a mnemonic-format secret). */
  secretLength: 32 | 64;
  hasMnemonic: boolean;
  /** File name the operator dropped, if any (not the path). */
  fileName?: string;
}

export interface AppInfo {
  version: string;
  /** Where this backend runs: 'electron' or 'e2e' (the test harness). */
  host: 'electron' | 'e2e';
  online: boolean;
}

export interface ChoosePathResult {
  /** The file written (absolute path). */
  path: string;
}

export interface JobStatus<T = unknown> {
  id: string;
  kind: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  done: number;
  total: number;
  note?: string;
  startedAt: number;
  elapsedMs: number;
  result?: T;
  error?: { code: string; message: string };
}

export interface PaperDiffView {
  kind: 'hex' | 'words' | 'codex32';
  matches: boolean;
  /** One entry per group (hex: 4 digits) / word / character, in order. */
  units: { index: number; label: string; typed: string; ok: boolean }[];
  /** Human summary: "group 7 (digits 25–28) differs", or "The copy matches." */
  summary: string;
  /** Node id derived from the typed copy, when it parsed. */
  copyNodeId?: string;
  /**
   * codex32 only: the substitutions the checksum locates (up to 4, BIP-93), positions in the
   * compact string (spaces and dashes removed). Candidates for the operator to check on the paper.
   */
  codex32Fixes?: { changes: { position: number; from: string; to: string }[] }[];
}

export interface TypoCandidateView {
  /** The corrected copy (hex digits or words): it is the secret, shown only to the operator who asked. */
  text: string;
  kind: string;
  changes: { position: number; from: string; to: string }[];
}

/** The printable paper sheet, as data (the renderer shows it; the backend prints the same to PDF). */
export interface SheetView {
  /** Lines of hex groups, each with its short check code. */
  lines: { index: number; groups: string[]; check: string }[];
  codex32: string | null;
  codex32Id: string | null;
  words: string[] | null;
  nodeIdGroups: string[];
  createdAt: string;
}

/** A loaded channel list for SCB force-close recovery, with the walkthrough. */
export interface ScbView {
  source: ScbSource;
  network: Network;
  channels: ScbChannel[];
  /** Which scb key opened emergency.recover, in a sentence; null for other sources. */
  keyNote: string | null;
  /** emergency.recover's write time (unix seconds), when known. */
  backupTimestamp: number | null;
  steps: WalkthroughStep[];
  recoverChannel: { json: string; command: string; qrSvgDataUrl: string | null };
  skippedDbids: number[];
  /** Signs that the chosen network may be wrong (the database's genesis hash, the peers' addresses). */
  networkWarnings: string[];
  /** The network the source itself records (a database's genesis hash), when it records one. */
  recordedNetwork: Network | null;
}

/** One backup of this node found on a source (a recognition code matched, or its archive opened). */
export interface RecoveryCandidateView {
  clientId: string;
  sourceLabel: string;
  via: 'code' | 'archive';
  dataVersion?: number;
  time?: number;
  timeBasis?: 'v1' | 'mtime';
  increments?: number;
  chain?: 'v1' | 'v0' | 'mixed' | 'none';
  error?: { code: string; message: string };
  warnings: WarningView[];
}
export interface WarningView {
  kind: string;
  severity: 'info' | 'warning' | 'error';
  message: string;
}
export type EntryStatus = 'checking' | 'not_ours' | 'ours' | 'invalid';
/**
 * One source's outcome, as the operator must see it: read (how many entries, archives, ours) or
 * failed (why). "No backup found" is only said when every source was read.
 */
export interface SourceOutcomeView {
  label: string;
  kind: string;
  records: number;
  archives: number;
  /** Backups of this node found on this source. */
  ours: number;
  speaksV1?: boolean;
  error?: { code: string; message: string };
  /** What the engine noticed while reading it (e.g. "no recognition_codes file"). */
  notes: string[];
}
export interface SearchView {
  sources: SourceOutcomeView[];
  candidates: RecoveryCandidateView[];
  /** Index of the freshest usable candidate, −1 when none. */
  freshest: number;
  warnings: WarningView[];
}
/** A window of the (possibly million-row) entry list, for a virtualised view. */
export interface EntriesPage {
  total: number;
  counts: Record<EntryStatus, number>;
  rows: { index: number; source: number; clientId: string | null; status: EntryStatus }[];
}
/** Live counts while the recognition codes are being checked. */
export interface SearchProgressView {
  checked: number;
  total: number;
  ours: number;
  notOurs: number;
  invalid: number;
  perSecond: number;
}
export interface VerdictView {
  ok: boolean;
  stale: boolean;
  staleReasons: string[];
  staleAdvice?: string;
  nodeId: string;
  clientId: string;
  source: { label: string; kind: string };
  via: 'code' | 'archive';
  dataVersion: number;
  time?: number;
  timeBasis?: 'v1' | 'mtime';
  increments: number;
  incrementsStored: number;
  statements: number;
  snapshotDataVersion: number;
  chain: 'v1' | 'v0' | 'mixed' | 'none';
  integrity: string[];
  foreignKeyViolations: number;
  database: { path: string; bytes: number };
  wrapper?: { path: string; serverId: string; serverHost: string };
  /** The plugin's chain state written beside the database (the backup continues from it). */
  pluginState?: { path: string; dataVersion: number };
  /** The backup's client key, saved when no wrapper could be written. */
  clientKeyFile?: string;
  /** The engine's next steps (also inside afterRecovery.steps, with the app's own around them). */
  nextSteps: string[];
  timings: { step: string; ms: number }[];
  warnings: WarningView[];
  candidates: RecoveryCandidateView[];
  /** Where the files went and what to do now (shared/recovery/afterRecovery.ts). */
  afterRecovery: AfterRecoveryView;
  /** Whether the sources prove this is the node's newest state (issue 11; the engine's freshness.ts). */
  freshness: FreshnessView;
  /** One row per source searched, in the order given: what it holds against the newest. */
  sourceOutcomes: SourceFreshnessView[];
}
/** The freshness verdict: proven only when enough of the node's own servers (sealed in the backup) answered. */
export interface FreshnessView {
  state: 'proven' | 'not-proven';
  /** The plain sentence: why proven, or why not and what is missing. */
  reason: string;
  /** n, k and the server ids sealed in the backup (absent: the backup names no servers — one server, or made before CLDCB knew several). */
  policy?: { quorum: number; servers: number; serverIds: string[] };
  /** The node's servers that answered with a readable backup (or provably none). */
  answered: number;
  /** n − k + 1: how many must answer for a proof. */
  needed?: number;
  /** The node's servers not read yet (52…/53…). */
  missingServers: string[];
}
export type SourceFreshnessOutcome = 'newest' | 'behind' | 'diverged' | 'missing' | 'unreachable' | 'refused';
export interface SourceFreshnessView {
  /** The source as the search named it (a folder's path, a server's address). */
  name: string;
  serverId?: string;
  outcome: SourceFreshnessOutcome;
  dataVersion?: number;
  /** Time of its last increment (unix seconds), when known. */
  time?: number;
  /** `behind`: by how many data_versions. */
  behindBy?: number;
  /** One of the node's servers by the sealed policy. */
  policyServer?: boolean;
  /** Why, in a sentence. */
  detail: string;
}
export interface AfterRecoveryView {
  /** The database was written under a name lightningd does not open (a possibly stale rebuild). */
  databaseAside: boolean;
  /** A possibly stale database sits where lightningd opens it: the operator must move it first. */
  staleInPlace: boolean;
  lightningDir: string;
  steps: AfterRecoveryStep[];
}
/** One drill in the persisted history (the app's user-data directory). */
export interface DrillHistoryEntry {
  kind: 'demo' | 'live';
  pass: boolean;
  finishedAt: number;
  nodeId?: string;
  dataVersion?: number;
  summary: string;
}
export interface DrillHistoryView {
  /** Most recent first. Demo runs are listed but never count as a drill. */
  entries: DrillHistoryEntry[];
  /** The last passing drill of a real node, and when the next one is due (90 days later). */
  lastPass: DrillHistoryEntry | null;
  nextDueAt: number | null;
  overdue: boolean;
  /** Where the history is kept (the app's user-data directory), or null when this host keeps none. */
  storedIn: string | null;
}
export interface DrillView {
  kind: 'demo' | 'live';
  pass: boolean;
  startedAt: number;
  finishedAt: number;
  nextDueAt: number;
  nodeId?: string;
  steps: { name: string; ok: boolean; ms: number; detail?: string }[];
  verdict?: VerdictView;
  comparisons: { name: string; against: string; identical: boolean; tables: number; rows: number; aheadBy: number | null; ok: boolean }[];
  failure?: { code: string; message: string };
  notes: string[];
  /** The history after this drill was recorded. */
  history: DrillHistoryView;
}
/** One backup server of the install ceremony: the client key this node has there (the private key stays in the backend). */
export interface InstallServerView {
  serverId: string;
  serverHost: string;
  clientId: string;
  /** What this server's operator runs to allow the client. */
  serverCommand: string;
  clientIdQr: string | null;
}
/** The install ceremony's results (the client private keys stay in the backend until saved). */
export interface InstallView {
  nodeId: string;
  /** Server 1 first, in the order the wrapper lists them; each has its own client key and recognition code. */
  servers: InstallServerView[];
  /** k: how many servers store a write before lightningd commits it (null: one server). */
  quorum: number | null;
  /** n − k + 1: how many of the servers a recovery must read to prove it has the newest state (null: one server). */
  proofNeeds: number | null;
  /** The wrapper with the cpk lines masked, for review. */
  wrapperPreview: string;
  /** The line for lightningd's config. */
  configLine: string;
}
/** What is wrong with the servers and k the operator typed, field by field (null: nothing). */
export interface InstallCheckView {
  /** One per server row. */
  servers: (string | null)[];
  /** A problem of the list as a whole. */
  list: string | null;
  quorum: string | null;
  /** k as it would be written (the choice, or a majority); null for one server or on a problem. */
  k: number | null;
}

/** Where a backup server stands against lightningd's database (the plugin's state file for it). */
export type ServerStandingView = 'current' | 'behind' | 'ahead' | 'none' | 'unbound' | 'unknown';
/** A node's backup as its lightning directory records it (what `cldcb-client status` prints). */
export interface BackupStatusView {
  lightningDir: string;
  database: { file: string; dataVersion: number | null; error: string | null };
  /** k (1 for one server). */
  quorum: number;
  servers: {
    index: number;
    serverId: string;
    address: string;
    proxy: string | null;
    clientId: string;
    stateFile: string;
    /** The last data_version the server acknowledged (null: none known). */
    dataVersion: number | null;
    /** When (unix seconds; the state file's mtime). */
    acknowledgedAt: number | null;
    /** The database's data_version minus the server's. */
    lag: number | null;
    standing: ServerStandingView;
    /** The standing in a sentence, as the CLI says it. */
    standingText: string;
  }[];
  /** Servers current with the database (null: the database's data_version is unknown). */
  current: number | null;
  /** What the last stop of lightningd left in the backup, in a sentence. */
  lastStop: { warning: boolean; message: string } | null;
  afterStopRunning: boolean;
}

/** A macaroon or a rune as the Credentials screen shows it (the engine's descriptions are plain JSON). */
export interface CredentialView {
  kind: 'macaroon' | 'rune';
  /** The credential as text: a rune in base64url; a macaroon in hex (LND's REST header form). */
  text: string;
  /** What it allows and under which conditions, one line each (the engine's summary). */
  summary: string[];
  rune: RuneInspection | null;
  macaroon: MacaroonInspection | null;
  /** The time (RFC 3339) and client IP a macaroon was verified at, when a root key was given. */
  checkedAt: string | null;
  checkedIp: string | null;
  /** What was and was not checked, e.g. "No secret is loaded: authenticity not checked." */
  notes: string[];
}
/** A new credential (restricted, attenuated or minted), ready to copy, save or show as a QR code. */
export interface CredentialResult {
  kind: 'macaroon' | 'rune';
  text: string;
  format: 'rune' | 'hex' | 'base64' | 'base64url';
  /** The restrictions / caveats added, as text. */
  added: string[];
  view: CredentialView;
  qrSvgDataUrl: string | null;
}
/** The rotation reminder: the operator's last recorded rotation, kept in the backend's memory only. */
export interface RotationView {
  lastRotation: string | null;
  nextDue: string | null;
  daysLeft: number | null;
  overdue: boolean;
  policyDays: number;
}

const network = z.enum(['bitcoin', 'testnet', 'signet', 'regtest']);
const rpcText = z.string().max(32 * 1024 * 1024).optional();
/** A pasted credential (text) or a dropped one (file bytes); the handler wants exactly one. */
const credInput = { text: z.string().max(4 * 1024 * 1024).optional(), bytesB64: b64.optional() };
/** Restrictions for runes (methods, peer, rate, readonly) and expiry/custom for both. */
const runeForm = {
  expires: z.string().max(64).optional(),
  methods: z.array(z.string().max(200)).max(100).optional(),
  rate: z.number().int().min(1).max(4294967294).optional(),
  peerId: hex66.optional(),
  readonly: z.boolean().optional(),
  /** Further rune restrictions (rune syntax) or LND caveats, one per entry. */
  custom: z.array(z.string().min(1).max(4096)).max(50).optional(),
};

export const contract = {
  'app.info': { input: z.object({}).strict(), output: out<AppInfo>() },

  /** A binary hsm_secret (any CLN format) or a text file holding hex, words or codex32 (as the CLI takes it). */
  'secret.loadFile': {
    input: z
      .object({ fileName: z.string().max(255), bytesB64: b64, passphrase, mnemonicMeaning: z.enum(['mnemonic-format', 'legacy-generatehsm']).optional() })
      .strict(),
    output: out<SecretInfo>(),
  },
  'secret.loadText': {
    input: z
      .object({
        text: z.string().max(4096),
        passphrase,
        mnemonicMeaning: z.enum(['mnemonic-format', 'legacy-generatehsm']).optional(),
      })
      .strict(),
    output: out<SecretInfo>(),
  },
  'secret.current': { input: z.object({}).strict(), output: out<SecretInfo | null>() },
  /**
   * The loaded secret (typed hex or words) gives another node id than the one the operator knows:
   * search for the typo in what was typed. Candidates name positions; the corrected secret stays here.
   */
  'secret.startRepair': { input: z.object({ nodeId: hex66 }).strict(), output: out<{ jobId: string }>() },
  /** Load candidate `index` of the typo search `jobId` in place of the loaded secret. */
  'secret.applyRepair': { input: z.object({ jobId, index: z.number().int().min(0).max(1000) }).strict(), output: out<SecretInfo>() },
  'secret.forget': { input: z.object({}).strict(), output: out<null>() },
  /** Show the loaded secret as codex32 (with an id) or as words, like `lightning-hsmtool getsecret`. */
  'secret.reveal': {
    input: z.object({ as: z.enum(['codex32', 'words']), id: z.string().max(4).optional() }).strict(),
    output: out<{ text: string }>(),
  },
  /** Write the loaded secret as an hsm_secret file (mode 0400, never overwriting). */
  'secret.export': {
    input: z.object({ format: z.enum(['plain', 'mnemonic']), passphrase }).strict(),
    output: out<ChoosePathResult | null>(),
  },

  'paper.compare': {
    input: z.object({ copy: z.string().max(4096), nodeId: hex66.optional() }).strict(),
    output: out<PaperDiffView>(),
  },
  'paper.startRepair': {
    input: z.object({ copy: z.string().max(4096), nodeId: hex66 }).strict(),
    output: out<{ jobId: string }>(),
  },
  'paper.sheet': {
    input: z.object({ id: z.string().max(4).optional() }).strict(),
    output: out<SheetView>(),
  },
  'paper.printPdf': {
    input: z.object({ id: z.string().max(4).optional() }).strict(),
    output: out<ChoosePathResult | null>(),
  },
  /** Print the sheet on a printer (Electron's print dialog; nothing is written to disk). */
  'paper.print': { input: z.object({ id: z.string().max(4).optional() }).strict(), output: printed },

  'scb.load': {
    input: z
      .object({
        source: z.enum(['emergency.recover', 'staticbackup', 'database']),
        fileName: z.string().max(255),
        bytesB64: b64,
        network,
      })
      .strict(),
    output: out<ScbView>(),
  },
  /** Choose another network for the loaded channel list: the addresses and steps are made again. */
  'scb.setNetwork': { input: z.object({ network }).strict(), output: out<ScbView>() },
  /** Update the tracker from RPC outputs the operator brought back (JSON text). */
  'scb.track': {
    input: z.object({ listpeerchannels: rpcText, listfunds: rpcText, listclosedchannels: rpcText, getinfo: rpcText }).strict(),
    output: out<RecoveryProgress>(),
  },
  'scb.savePayload': { input: z.object({}).strict(), output: out<ChoosePathResult | null>() },
  'scb.saveReport': { input: z.object({ format: z.enum(['json', 'pdf']) }).strict(), output: out<ChoosePathResult | null>() },
  'scb.printReport': { input: z.object({}).strict(), output: printed },

  /**
   * Pick a copy of a server directory (ours or the original's) for the source list's row `slot`;
   * the path stays in the backend, the search names the row.
   */
  'recover.chooseServerDir': { input: z.object({ slot: sourceSlot.optional() }).strict(), output: out<ChoosePathResult | null>() },
  /** Pick the lightning directory the database and wrapper go to (never overwritten). */
  'recover.chooseLightningDir': { input: z.object({}).strict(), output: out<ChoosePathResult | null>() },
  /**
   * Start finding this node's entries on every source at once (issue 11: servers online and copies
   * of server directories, mixed). `online` is the operator's switch for this action.
   */
  'recover.startSearch': {
    input: z
      .object({
        sources: z
          .array(
            z.discriminatedUnion('kind', [
              z
                .object({
                  kind: z.literal('dir'),
                  /** The row whose folder was chosen (recover.chooseServerDir). */
                  slot: sourceSlot,
                  /** The server's host:port, written into the fresh wrapper (a directory does not record it). */
                  serverHost: z.string().max(300).optional(),
                })
                .strict(),
              z.object({ kind: z.literal('server'), address: z.string().max(300) }).strict(),
            ]),
          )
          .min(1)
          .max(MAX_RECOVERY_SOURCES),
        online: z.boolean(),
      })
      .strict(),
    output: out<{ jobId: string }>(),
  },
  'recover.searchProgress': { input: z.object({}).strict(), output: out<SearchProgressView | null>() },
  'recover.entries': {
    input: z.object({ offset: z.number().int().min(0), limit: z.number().int().min(1).max(500) }).strict(),
    output: out<EntriesPage>(),
  },
  'recover.startRebuild': {
    input: z
      .object({
        clientId: z.string().regex(/^[cC][23][0-9a-fA-F]{64}$/).optional(),
        lastKnownDataVersion: z.number().int().min(0).max(0xffffffff).optional(),
        lastKnownTime: z.number().int().min(0).optional(),
        online: z.boolean(),
      })
      .strict(),
    output: out<{ jobId: string }>(),
  },
  'recover.saveReport': { input: z.object({ format: z.enum(['json', 'pdf']) }).strict(), output: out<ChoosePathResult | null>() },
  'recover.printReport': { input: z.object({}).strict(), output: printed },
  /** The after-recovery checklist (where the files are, the config line, never run the old node): print or save as PDF. */
  'recover.printChecklist': { input: z.object({}).strict(), output: printed },
  'recover.saveChecklist': { input: z.object({}).strict(), output: out<ChoosePathResult | null>() },

  'drill.startDemo': { input: z.object({}).strict(), output: out<{ jobId: string }>() },
  /** Pick the copy of the server directory for a drill of the operator's own node. */
  'drill.chooseServerDir': { input: z.object({}).strict(), output: out<ChoosePathResult | null>() },
  /** Pick the node's lightning directory: its lightningd.sqlite3 is copied read-only and compared. */
  'drill.chooseLiveDir': { input: z.object({}).strict(), output: out<ChoosePathResult | null>() },
  /** Drill the loaded node's backup into a scratch directory (never the node's own directory). */
  'drill.startLive': {
    input: z
      .object({
        source: z.enum(['dir', 'server']),
        address: z.string().max(300).optional(),
        online: z.boolean(),
        compareLive: z.boolean(),
        lastKnownDataVersion: z.number().int().min(0).max(0xffffffff).optional(),
      })
      .strict(),
    output: out<{ jobId: string }>(),
  },
  /** The drill history and the next due date, kept across restarts in the app's user-data directory. */
  'drill.history': { input: z.object({}).strict(), output: out<DrillHistoryView>() },
  'drill.saveReport': { input: z.object({ format: z.enum(['json', 'pdf']) }).strict(), output: out<ChoosePathResult | null>() },
  'drill.printReport': { input: z.object({}).strict(), output: printed },

  /** Check the servers and k before the ceremony: each field's problem, in the words the screen shows beside it. */
  'install.check': { input: installChoice, output: out<InstallCheckView>() },
  'install.prepare': {
    input: installChoice.extend({ proxy: z.string().max(300).optional(), pluginCommand: z.string().max(1024).optional() }).strict(),
    output: out<InstallView>(),
  },
  'install.saveWrapper': { input: z.object({}).strict(), output: out<ChoosePathResult | null>() },
  /** `server`: which server's client id or key (0-based; default the first). */
  'install.saveClientId': { input: installServerIndex, output: out<ChoosePathResult | null>() },
  'install.saveClientKey': { input: installServerIndex, output: out<ChoosePathResult | null>() },

  /** Pick a node's lightning directory (or a copy of it) to show where its backup servers stand; only read. */
  'status.chooseLightningDir': { input: z.object({}).strict(), output: out<ChoosePathResult | null>() },
  /** Read the chosen directory (again): the wrapper's servers, the plugin's state files, the database read-only. */
  'status.read': { input: z.object({}).strict(), output: out<BackupStatusView>() },

  /** Describe a macaroon or a rune (auto-detected); verify a macaroon with its root key at a time and IP. */
  'cred.inspect': {
    input: z
      .object({ ...credInput, rootKeyHex: z.string().max(200).optional(), at: z.string().max(64).optional(), ip: z.string().max(64).optional() })
      .strict(),
    output: out<CredentialView>(),
  },
  /** Narrow a credential: rune restrictions, or macaroon caveats (expiry, IP, IP range, custom). */
  'cred.restrict': {
    input: z
      .object({
        ...credInput,
        ...runeForm,
        ip: z.string().max(64).optional(),
        ipRange: z.string().max(64).optional(),
        format: z.enum(['hex', 'base64', 'base64url']).optional(),
      })
      .strict(),
    output: out<CredentialResult>(),
  },
  /** A rune from the loaded secret's rune master secret (as lightningd makes them), with restrictions. */
  'cred.mintRune': {
    input: z.object({ uniqueId: z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'a whole number (Core Lightning counts runes from 0)'), ...runeForm }).strict(),
    output: out<CredentialResult>(),
  },
  /** Save a credential (mode 0600, never overwriting); a macaroon can be saved as LND's binary file. */
  'cred.save': {
    input: z.object({ kind: z.enum(['macaroon', 'rune']), text: z.string().min(1).max(4 * 1024 * 1024), binary: z.boolean().optional() }).strict(),
    output: out<ChoosePathResult | null>(),
  },
  /** Rotation reminder: without `lastRotation` read it; with a date (YYYY-MM-DD) record it; null clears it. */
  'cred.rotation': {
    input: z.object({ lastRotation: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date like 2026-01-31').nullable().optional() }).strict(),
    output: out<RotationView>(),
  },

  'job.status': { input: z.object({ jobId }).strict(), output: out<JobStatus>() },
  'job.cancel': { input: z.object({ jobId }).strict(), output: out<null>() },
} as const;

export type Channel = keyof typeof contract;
export type Input<C extends Channel> = z.infer<(typeof contract)[C]['input']>;
export type Output<C extends Channel> = (typeof contract)[C]['output'];

/** The API the preload exposes: `api.<group>.<name>(input)`. */
type GroupOf<C extends string> = C extends `${infer G}.${string}` ? G : never;
type NameOf<C extends string, G extends string> = C extends `${G}.${infer N}` ? N : never;
export type Api = {
  [G in GroupOf<Channel>]: {
    [N in NameOf<Channel, G>]: (
      input: Input<`${G}.${N}` & Channel>,
    ) => Promise<Result<Output<`${G}.${N}` & Channel>>>;
  };
};
