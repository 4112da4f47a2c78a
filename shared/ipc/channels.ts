/**
 * The channel names alone (no zod), for the preload and the e2e harness: they
 * build `window.api` from this list. A test checks it equals the contract's keys.
 */
export const CHANNELS = [
  'app.info',
  'secret.loadFile',
  'secret.loadText',
  'secret.current',
  'secret.startRepair',
  'secret.applyRepair',
  'secret.forget',
  'secret.reveal',
  'secret.export',
  'paper.compare',
  'paper.startRepair',
  'paper.sheet',
  'paper.printPdf',
  'paper.print',
  'scb.load',
  'scb.setNetwork',
  'scb.track',
  'scb.savePayload',
  'scb.saveReport',
  'scb.printReport',
  'recover.chooseServerDir',
  'recover.chooseLightningDir',
  'recover.startSearch',
  'recover.searchProgress',
  'recover.entries',
  'recover.startRebuild',
  'recover.saveReport',
  'recover.printReport',
  'recover.printChecklist',
  'recover.saveChecklist',
  'drill.startDemo',
  'drill.chooseServerDir',
  'drill.chooseLiveDir',
  'drill.startLive',
  'drill.history',
  'drill.saveReport',
  'drill.printReport',
  'install.check',
  'install.prepare',
  'install.saveWrapper',
  'install.saveClientId',
  'install.saveClientKey',
  'status.chooseLightningDir',
  'status.read',
  'cred.inspect',
  'cred.restrict',
  'cred.mintRune',
  'cred.save',
  'cred.rotation',
  'job.status',
  'job.cancel',
] as const;

/** Build the `api.<group>.<name>` object from an invoke function. */
export function buildApi(invoke: (channel: string, input: unknown) => Promise<unknown>): Record<string, Record<string, (input: unknown) => Promise<unknown>>> {
  const api: Record<string, Record<string, (input: unknown) => Promise<unknown>>> = {};
  for (const channel of CHANNELS) {
    const [group, name] = channel.split('.') as [string, string];
    (api[group] ??= {})[name] = (input: unknown) => invoke(channel, input ?? {});
  }
  return api;
}
