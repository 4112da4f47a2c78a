/**
 * What every group of IPC handlers shares: the host's dependencies, the job
 * registry, and the session (the loaded secret, kept in the backend only).
 */
import type { Channel, Input, Output, SecretInfo } from '../../shared/ipc/contract';
import { CldcbError } from '../../shared/errors';
import { bytesToHex, zeroize } from '../../shared/bytes';
import { decodeBase64 } from '../../shared/base64';
import { nodeIdFromSecret } from '../../shared/secrets/nodeKey';
import type { LoadedSecret } from '../../shared/secrets/hsmSecret';
import { JobRegistry } from '../../shared/node/jobs';

export interface HandlerDeps {
  host: 'electron' | 'e2e';
  version: string;
  /** Ask the operator where to save a file; null when they cancel. */
  chooseSavePath(opts: { title: string; defaultName: string }): Promise<string | null>;
  /** Ask the operator for a directory (e.g. a copy of a server directory, a lightning dir); null when they cancel. */
  chooseDirectory(opts: { title: string }): Promise<string | null>;
  /** Render self-contained HTML to PDF bytes (Electron: printToPDF; e2e: Chromium's page.pdf). */
  printToPdf(html: string): Promise<Uint8Array>;
  /**
   * Print self-contained HTML on a printer (Electron: webContents.print with the system dialog).
   * Resolves true when it was sent to a printer, false when the operator cancelled. Absent: this
   * host cannot print (the screens then offer the PDF only).
   */
  print?(html: string): Promise<boolean>;
  /**
   * The app's own data directory (Electron: app.getPath('userData')), for state that must survive a
   * restart and holds no secret: the drill history. Absent: nothing is kept across restarts.
   */
  userDataDir?: string;
  /** Is this frame URL our own renderer? Anything else is refused. */
  isTrustedSender(url: string): boolean;
  /**
   * A Node.js binary for the drill demo's server and plugin processes. Electron's own binary
   * cannot serve (its RunAsNode fuse is off), so the main process looks for `node` on PATH.
   */
  nodeBinary?: string;
  /** The clock (tests fix it). */
  now?(): Date;
  /**
   * Ask the operator, in a dialog the main process owns (not the renderer), whether this one
   * action may go online. Without it every request to go online is refused. The renderer's
   * "online mode" switch only asks for this question; the answer is the grant.
   */
  confirmOnline?(request: OnlineRequest): Promise<boolean>;
}

/** What an action wants to reach, as the confirmation dialog shows it. */
export interface OnlineRequest {
  /** What the operator is doing, e.g. "Find your entries on the backup server". */
  action: string;
  /** Where the one connection goes (SID@HOST:PORT, and the proxy if any). */
  destination: string;
}

/**
 * The grant for one action: true only when the operator confirmed in the main process's own
 * dialog. Run the action's work inside withNetworkScope({ online: granted, … }) so that the
 * network guard (shared/node/networkGuard.ts) holds every connection to the same answer.
 */
export async function grantOnline(deps: HandlerDeps, request: OnlineRequest): Promise<boolean> {
  return deps.confirmOnline ? (await deps.confirmOnline(request)) === true : false;
}

export type SessionSecret = LoadedSecret & { fileName?: string };

export class Session {
  private secret: SessionSecret | null = null;
  readonly jobs = new JobRegistry();
  /** Per-feature state that must be dropped with the secret (SCB channels, recovery results…). */
  private readonly resetters: (() => void)[] = [];

  onForget(fn: () => void): void {
    this.resetters.push(fn);
  }

  set(s: LoadedSecret, fileName?: string): SecretInfo {
    this.forget();
    this.secret = fileName === undefined ? s : { ...s, fileName };
    return this.describe();
  }

  get(): SessionSecret {
    if (!this.secret) throw new CldcbError('bad_input', 'No secret is loaded: import the hsm_secret first (Import secret).');
    return this.secret;
  }

  current(): SessionSecret | null {
    return this.secret;
  }

  describe(): SecretInfo {
    const s = this.get();
    return {
      nodeId: bytesToHex(nodeIdFromSecret(s.secretData)),
      format: s.format,
      source: s.source,
      secretLength: s.secretData.length === 64 ? 64 : 32,
      hasMnemonic: s.mnemonic !== undefined,
      ...(s.fileName !== undefined ? { fileName: s.fileName } : {}),
    };
  }

  forget(): void {
    if (this.secret) zeroize(this.secret.secretData);
    this.secret = null;
    this.jobs.clear();
    for (const r of this.resetters) r();
  }
}

export interface BackendContext {
  deps: HandlerDeps;
  session: Session;
  now(): Date;
}

export type Handler<C extends Channel> = (input: Input<C>) => Promise<Output<C>> | Output<C>;
export type HandlerGroup<C extends Channel> = { [K in C]: Handler<K> };

/**
 * Bytes the renderer sent as base64 (a file it read: an hsm_secret, an SCB, a credential),
 * decoded into a fresh array the caller owns and zeroizes — not into Buffer's shared pool,
 * where a copy would outlive the zeroize.
 */
export function b64ToBytes(b64: string): Uint8Array {
  return decodeBase64(b64, 'bytesB64', 'standard');
}

/**
 * Page rules every printed report gets (issue 12 §10): A4 with margins, and long ids, paths and
 * commands wrap instead of running off the page. Added last in <head>, so they win over a report's
 * own `@media print { body { margin: 0 } }`.
 */
const PRINT_CSS = '@page{size:A4;margin:16mm 15mm}body{overflow-wrap:anywhere}td,th,code,pre,.m{overflow-wrap:anywhere;word-break:break-word}';

/** A report's HTML made ready for paper (see PRINT_CSS). The paper sheet has its own page rules and does not use it. */
export function printableHtml(html: string): string {
  const i = html.search(/<\/head>/i);
  return i < 0 ? `<style>${PRINT_CSS}</style>${html}` : `${html.slice(0, i)}<style>${PRINT_CSS}</style>${html.slice(i)}`;
}

/**
 * Print self-contained HTML through the host's printer (issue 12 §10): `{ printed: true }`, or null
 * when the operator cancelled the print dialog.
 * @throws CldcbError unsupported when this host cannot print.
 */
export async function printHtml(deps: HandlerDeps, html: string): Promise<{ printed: true } | null> {
  if (!deps.print) throw new CldcbError('unsupported', 'This window cannot print. Save as PDF instead, print that file, then delete it.');
  return (await deps.print(html)) ? { printed: true } : null;
}
