/**
 * The cldcb plugin's JSON-RPC side (cldcb-protocol §7; cln-facts §8; Core Lightning v26.06
 * lightningd/plugin.c and plugin_hook.c).
 *
 * - `getmanifest` → `{"options":[],"rpcmethods":[],"hooks":[{"name":"db_write"}],"dynamic":false}`.
 *   v26.06 requires `options` and `rpcmethods` (plugin_opts_add / plugin_rpcmethods_add fail
 *   without them — the original's `{"hooks":["db_write"],"dynamic":false}` would be refused);
 *   hooks may be plain names or `{"name": …}` objects, the object is the documented form.
 *   Not dynamic: a backup plugin must be there from the first write.
 * - `init` → `{}` (any result except `{"disable":…}` completes init).
 * - `db_write` may come before `init` (migrations at startup) and is answered regardless.
 *   Success → `{"result":"continue"}`. Failure → a JSON-RPC error response: it has no
 *   `result`, so lightningd's db_hook_response calls fatal() ("returned an invalid response
 *   to the db_write hook: …", quoting our message) and exits without committing — the same
 *   fail-closed effect as the original's `{"result":{"epic":"fail"}}`, with the reason in
 *   lightningd's log. A `log` notification at level error says it first.
 * - db_write calls are processed one at a time in arrival order.
 * - Not subscribed to `shutdown`, deliberately: lightningd then lets us go at a safe point of
 *   its shutdown (shutdown_plugins, outside any transaction). A subscribed db_write plugin must
 *   leave by itself, and leaving can cross a db_write lightningd is starting: measured on
 *   v26.06, lightningd aborted ("Already in transaction", SIGABRT) in 1 of 15 stops. The
 *   writes lightningd commits after letting us go are covered by the after-stop helper
 *   (shared/node/pluginShutdown.ts; docs/PROTOCOL.md §4).
 * - Unknown methods → error -32601; notifications (no id) are ignored.
 * Request ids are echoed as received (lightningd uses strings like "cln:db_write#12").
 */
import { CldcbError } from '../shared/errors';
import { BackupSession, type Log } from './backup';
import { asciiLogText } from './logText';

export const MANIFEST = {
  options: [],
  rpcmethods: [],
  hooks: [{ name: 'db_write' }],
  dynamic: false,
} as const;

/** JSON-RPC error codes. */
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
/** Our "backup failed" error (implementation-defined server error range). */
export const BACKUP_FAILED = -32000;

export interface PluginOutput {
  /** Write one JSON-RPC object (serialised, newline-terminated). */
  send(obj: unknown): void;
}

type Id = string | number | null;

export class CldcbPluginRpc {
  private queue: Promise<void> = Promise.resolve();
  private initialised = false;
  private writes = 0;

  constructor(
    private readonly session: Pick<BackupSession, 'write'>,
    private readonly out: PluginOutput,
    private readonly onInit: () => void = () => {},
  ) {}

  /** Log through lightningd (`log` notification). Never pass secrets. */
  readonly log: Log = (level, message) => {
    this.out.send({ jsonrpc: '2.0', method: 'log', params: { level, message: asciiLogText(`cldcb: ${message}`) } });
  };

  private reply(id: Id, result: unknown): void {
    this.out.send({ jsonrpc: '2.0', id, result });
  }

  private error(id: Id, code: number, message: string): void {
    this.out.send({ jsonrpc: '2.0', id, error: { code, message: asciiLogText(message) } });
  }

  /** Handle one parsed message from lightningd. */
  handle(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      this.log('warn', 'ignored a JSON value from lightningd that is not a request object.');
      return;
    }
    const m = msg as { id?: unknown; method?: unknown; params?: unknown };
    if (!('id' in m) || m.id === undefined) return; // a notification
    const id = m.id as Id;
    if (typeof m.method !== 'string') {
      this.error(id, INVALID_REQUEST, 'request without a method');
      return;
    }
    switch (m.method) {
      case 'getmanifest':
        this.reply(id, MANIFEST);
        return;
      case 'init':
        this.initialised = true;
        this.reply(id, {});
        this.onInit();
        return;
      case 'db_write': {
        const params = m.params;
        this.queue = this.queue.then(() => this.dbWrite(id, params));
        return;
      }
      default:
        this.error(id, METHOD_NOT_FOUND, `cldcb-plugin has no method "${m.method}"`);
    }
  }

  /** Resolves when every queued db_write has been answered. */
  idle(): Promise<void> {
    return this.queue;
  }

  get isInitialised(): boolean {
    return this.initialised;
  }

  private async dbWrite(id: Id, params: unknown): Promise<void> {
    const p = params as { data_version?: unknown; writes?: unknown } | null;
    const dv = p?.data_version;
    const writes = p?.writes;
    if (
      typeof dv !== 'number' ||
      !Number.isInteger(dv) ||
      dv < 0 ||
      dv > 0xffffffff ||
      !Array.isArray(writes) ||
      !writes.every((w) => typeof w === 'string')
    ) {
      const message = 'db_write: expected params {"data_version": u32, "writes": [strings]}; not backed up, lightningd must not commit.';
      this.log('error', message);
      this.error(id, INVALID_PARAMS, message);
      return;
    }
    try {
      await this.session.write(dv, writes as string[]);
      this.writes++;
      this.reply(id, { result: 'continue' });
    } catch (e) {
      const message =
        e instanceof CldcbError ? e.message : `data_version ${dv} was NOT backed up: internal error in cldcb-plugin (${(e as Error)?.name ?? 'unknown'}).`;
      this.log('error', `${message} Failing the db_write hook so that lightningd does not commit a write that is not backed up.`);
      this.error(id, BACKUP_FAILED, `cldcb backup failed, refusing the write: ${message}`);
    }
  }
}
