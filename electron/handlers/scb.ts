/** scb.*: the channel list for force-close recovery, its walkthrough, tracker and report. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CldcbError } from '../../shared/errors';
import { zeroize } from '../../shared/bytes';
import type { ScbView } from '../../shared/ipc/contract';
import {
  backupChannels,
  buildRecoveryReport,
  emergencyRecoverBytes,
  normaliseScbChannels,
  openEmergencyRecover,
  parseStaticBackup,
  recoverChannelCommand,
  recoverChannelPayload,
  networkWarnings,
  trackRecovery,
  walkthroughSteps,
  type ModernScbChan,
  type Network,
  type RecoveryProgress,
  type ScbChannel,
  type ScbKeyBase,
  type ScbSource,
} from '../../shared/scb';
import { renderScbReportHtml } from '../../shared/scb/reportHtml';
import { readDatabaseNetwork, readScbDatabase } from '../../shared/node/scbDatabase';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { qrSvgDataUrl } from '../../shared/node/qr';
import { b64ToBytes, printableHtml, printHtml, type BackendContext, type HandlerGroup } from './context';

type C = 'scb.load' | 'scb.setNetwork' | 'scb.track' | 'scb.savePayload' | 'scb.saveReport' | 'scb.printReport';

interface Loaded {
  source: ScbSource;
  network: Network;
  entries: ModernScbChan[];
  channels: ScbChannel[];
  /** emergency.recover in the legacy (6135) format: its entries carry no TLVs. */
  legacy: boolean;
  keyBase?: ScbKeyBase;
  keyNote: string | null;
  backupTimestamp?: number;
  /** The network the source records (a database's genesis hash). */
  recordedNetwork: Network | null;
  progress?: RecoveryProgress;
}

const MAX_DB_BYTES = 4 * 1024 * 1024 * 1024;

/** better-sqlite3 reads files: put the dropped database in a private temp dir for the read. */
function withTempDatabase<T>(bytes: Uint8Array, fn: (file: string) => T): T {
  if (bytes.length > MAX_DB_BYTES) throw new CldcbError('bad_input', 'The database is larger than 4 GiB.');
  const dir = mkdtempSync(path.join(tmpdir(), 'cldcb-scb-'));
  try {
    const file = path.join(dir, 'lightningd.sqlite3');
    writeFileSync(file, bytes, { mode: 0o600 });
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function scbHandlers({ deps, session, now }: BackendContext): HandlerGroup<C> {
  let loaded: Loaded | null = null;
  session.onForget(() => (loaded = null));
  const need = (): Loaded => {
    if (!loaded) throw new CldcbError('bad_input', 'No channel list is loaded: open emergency.recover, a staticbackup output or a database first.');
    return loaded;
  };
  const view = async (l: Loaded): Promise<ScbView> => {
    const { payload, skipped } = recoverChannelPayload(l.entries);
    const json = JSON.stringify(payload);
    return {
      source: l.source,
      network: l.network,
      channels: l.channels,
      keyNote: l.keyNote,
      backupTimestamp: l.backupTimestamp ?? null,
      steps: walkthroughSteps({ network: l.network, source: l.source, payload, ...(l.keyBase ? { keyBase: l.keyBase } : {}) }),
      recoverChannel: { json, command: recoverChannelCommand(payload), qrSvgDataUrl: await qrSvgDataUrl(json) },
      skippedDbids: skipped,
      networkWarnings: networkWarnings(l.network, l.channels, l.recordedNetwork),
      recordedNetwork: l.recordedNetwork,
    };
  };
  const report = () => {
    const l = need();
    return buildRecoveryReport({ ...l, generatedAt: now().toISOString() });
  };

  return {
    'scb.load': async ({ source, fileName, bytesB64, network }): Promise<ScbView> => {
      const secretData = session.get().secretData;
      const bytes = b64ToBytes(bytesB64);
      let l: Loaded;
      try {
        if (source === 'emergency.recover') {
          const opened = await openEmergencyRecover(emergencyRecoverBytes(bytes, fileName), secretData, fileName);
          const legacy = opened.backup.format === 'legacy';
          const entries = backupChannels(opened.backup);
          l = {
            source,
            network,
            entries,
            legacy,
            channels: normaliseScbChannels(entries, secretData, network, source, legacy),
            keyBase: opened.keyBase,
            keyNote: opened.keyNote,
            backupTimestamp: opened.backup.timestamp,
            recordedNetwork: null,
          };
        } else if (source === 'staticbackup') {
          const entries = parseStaticBackup(Buffer.from(bytes).toString('utf8'), fileName);
          l = { source, network, entries, legacy: false, keyNote: null, recordedNetwork: null, channels: normaliseScbChannels(entries, secretData, network, source) };
        } else {
          const r = withTempDatabase(bytes, (file) => ({ ...readScbDatabase(file, secretData, network), recorded: readDatabaseNetwork(file) }));
          l = { source, network, entries: r.entries, legacy: false, keyNote: null, recordedNetwork: r.recorded, channels: r.channels };
        }
      } finally {
        zeroize(bytes);
      }
      loaded = l;
      return view(l);
    },
    // The file's bytes are gone (zeroized after reading): the kept entries are normalised again for the new network.
    'scb.setNetwork': async ({ network }) => {
      const l = need();
      const secretData = session.get().secretData;
      const next: Loaded = { ...l, network, channels: normaliseScbChannels(l.entries, secretData, network, l.source, l.legacy) };
      delete next.progress;
      loaded = next;
      return view(next);
    },

    'scb.track': (inputs) => {
      const l = need();
      const given = Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined && v.trim() !== ''));
      if (Object.keys(given).length === 0)
        throw new CldcbError('bad_input', 'Paste or drop at least one of listpeerchannels, listfunds or listclosedchannels from the recovering node.');
      l.progress = trackRecovery(l.channels, given);
      return l.progress;
    },

    'scb.savePayload': async () => {
      const l = need();
      const target = await deps.chooseSavePath({ title: 'Save the recoverchannel payload', defaultName: 'recoverchannel.json' });
      if (target === null) return null;
      writeFileAtomic(target, JSON.stringify(recoverChannelPayload(l.entries).payload, null, 2) + '\n', { mode: 0o600 });
      return { path: target };
    },

    'scb.saveReport': async ({ format }) => {
      const r = report();
      const target = await deps.chooseSavePath({
        title: 'Save the SCB recovery report',
        defaultName: format === 'json' ? 'scb-recovery-report.json' : 'scb-recovery-report.pdf',
      });
      if (target === null) return null;
      const data = format === 'json' ? JSON.stringify(r, null, 2) + '\n' : await deps.printToPdf(printableHtml(renderScbReportHtml(r)));
      writeFileAtomic(target, data, { mode: 0o600 });
      return { path: target };
    },
    'scb.printReport': () => printHtml(deps, printableHtml(renderScbReportHtml(report()))),
  };
}
