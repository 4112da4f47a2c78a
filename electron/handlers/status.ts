/**
 * status.*: where each backup server of a node stands (issue 11, "the CLI and app show per-server
 * state"), read from a lightning directory the operator chooses — the plugin wrapper's servers,
 * the plugin's state file for each (last acknowledged data_version, when) and lightningd's
 * database opened read-only for the lag. The reader is the one `cldcb-client status` uses
 * (shared/node/backupStatus.ts); nothing in the directory changes and no server is contacted.
 */
import { CldcbError } from '../../shared/errors';
import type { BackupStatusView } from '../../shared/ipc/contract';
import { readBackupStatus, standingText } from '../../shared/node/backupStatus';
import { describeLastStop } from '../../shared/node/pluginShutdown';
import type { BackendContext, HandlerGroup } from './context';

type C = 'status.chooseLightningDir' | 'status.read';

export function statusHandlers({ deps }: BackendContext): HandlerGroup<C> {
  let lightningDir: string | null = null;
  return {
    'status.chooseLightningDir': async () => {
      const dir = await deps.chooseDirectory({ title: "Choose the node's lightning directory (…/bitcoin): it is only read" });
      if (dir === null) return null;
      lightningDir = dir;
      return { path: dir };
    },
    'status.read': (): BackupStatusView => {
      if (!lightningDir) throw new CldcbError('bad_input', "Choose the node's lightning directory first.");
      const st = readBackupStatus(lightningDir);
      const stop = st.lastStop ? describeLastStop(st.lastStop) : undefined;
      return {
        lightningDir: st.lightningDir,
        database: { file: st.database.file, dataVersion: st.database.dataVersion ?? null, error: st.database.error ?? null },
        quorum: st.quorum,
        servers: st.servers.map((s) => ({
          index: s.index,
          serverId: s.serverId,
          address: s.address,
          proxy: s.proxy ?? null,
          clientId: s.clientId,
          stateFile: s.stateFile,
          dataVersion: s.dataVersion ?? null,
          acknowledgedAt: s.acknowledgedAt ? Math.floor(s.acknowledgedAt.getTime() / 1000) : null,
          lag: s.lag ?? null,
          standing: s.standing,
          standingText: standingText(s),
        })),
        current: st.current ?? null,
        lastStop: stop ? { warning: stop.level === 'warn', message: stop.message.charAt(0).toUpperCase() + stop.message.slice(1) } : null,
        afterStopRunning: st.afterStopRunning,
      };
    },
  };
}
