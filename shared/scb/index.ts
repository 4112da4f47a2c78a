/**
 * SCB force-close recovery, platform-free (cln-facts.md §6, §7, §9).
 *
 * Typical use (the CLI and the app do exactly this):
 *
 *   const { backup, keyBase } = await openEmergencyRecover(fileBytes, secretData);   // or parseStaticBackup(json)
 *   const entries  = backupChannels(backup);                                          // ModernScbChan[]
 *   const channels = normaliseScbChannels(entries, secretData, 'bitcoin', 'emergency.recover', backup.format === 'legacy');
 *   const progress = trackRecovery(channels, { listpeerchannels, listfunds, listclosedchannels });
 *   const report   = buildRecoveryReport({ network, source, channels, entries, keyBase, progress });
 *
 * The database source (a rebuilt lightningd.sqlite3) is Node-only:
 * shared/node/scbDatabase.ts readScbDatabase().
 */
export * from './secrets';
export * from './wireaddr';
export * from './channelType';
export * from './scbChan';
export * from './emergencyRecover';
export * from './staticbackup';
export * from './channelKeys';
export * from './channels';
export * from './walkthrough';
export * from './network';
