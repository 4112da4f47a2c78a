/**
 * The lightningd stand-in used by the plugin tests and benchmarks. It moved to
 * shared/node/lightningdPlayer.ts (shipped: `cldcb-client drill --demo` plays the
 * bundled trace with it); this file keeps the old import path working.
 */
export * from '../../../shared/node/lightningdPlayer';
