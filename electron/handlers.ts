/**
 * The IPC handler table (style.md §1). `createHandlers(deps)` builds one
 * function per contract channel from the feature groups in electron/handlers/;
 * it imports no `electron`, so the Electron main process registers it with
 * `ipcMain.handle` and the e2e tests register the very same table behind
 * Playwright's `exposeBinding`.
 *
 * Every input arrives as `unknown` and is parsed with the contract's zod schema;
 * every outcome leaves as data (`Result`). The loaded secret lives in the
 * backend's memory (Session) and is zeroized when forgotten or replaced.
 */
import { CHANNELS } from '../shared/ipc/channels';
import { contract, type Channel, type Output } from '../shared/ipc/contract';
import { fail, wrapResult, type Result } from '../shared/errors';
import { Session, type BackendContext, type HandlerDeps } from './handlers/context';
import { secretHandlers } from './handlers/secrets';
import { paperHandlers } from './handlers/paper';
import { scbHandlers } from './handlers/scb';
import { credentialHandlers } from './handlers/credentials';
import { jobHandlers } from './handlers/jobs';
import { recoverHandlers } from './handlers/recover';
import { installHandlers } from './handlers/install';
import { statusHandlers } from './handlers/status';
import { withNetworkScope } from '../shared/node/networkGuard';

export type { HandlerDeps, OnlineRequest } from './handlers/context';
export type HandlerTable = { [C in Channel]: (input: unknown) => Promise<Result<Output<C>>> };

export interface Backend {
  table: HandlerTable;
  /** Entry point for both hosts: check the sender, the channel, then run. */
  dispatch(channel: string, input: unknown, senderUrl: string): Promise<Result<unknown>>;
  /** Forget the secret and stop every job (window closed, app quitting). */
  dispose(): void;
}

export function createHandlers(deps: HandlerDeps): Backend {
  const session = new Session();
  const ctx: BackendContext = { deps, session, now: () => deps.now?.() ?? new Date() };
  const handlers = {
    ...secretHandlers(ctx),
    ...paperHandlers(ctx),
    ...scbHandlers(ctx),
    ...recoverHandlers(ctx),
    ...installHandlers(ctx),
    ...statusHandlers(ctx),
    ...credentialHandlers(ctx),
    ...jobHandlers(ctx),
  };

  const table = {} as Record<Channel, (input: unknown) => Promise<Result<unknown>>>;
  for (const channel of CHANNELS) {
    const schema = contract[channel].input;
    const handler = handlers[channel] as (input: unknown) => unknown;
    // Every request runs offline (loopback only) unless its handler was granted online mode for
    // its action by the operator's confirmation (grantOnline); what the renderer sends cannot.
    table[channel] = (input: unknown) =>
      withNetworkScope({ online: false, action: `The ${channel} action` }, async () => {
        const parsed = schema.safeParse(input ?? {});
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const where = issue?.path.length ? issue.path.join('.') : 'input';
          return fail('bad_input', `${channel}: ${where}: ${issue?.message ?? 'invalid'}.`);
        }
        return wrapResult(() => handler(parsed.data));
      });
  }

  return {
    table: table as HandlerTable,
    async dispatch(channel, input, senderUrl) {
      if (!deps.isTrustedSender(senderUrl)) return fail('bad_input', 'Request from an untrusted page refused.');
      if (!(CHANNELS as readonly string[]).includes(channel)) return fail('bad_input', `Unknown channel "${channel}".`);
      return table[channel as Channel](input);
    },
    dispose: () => session.forget(),
  };
}
