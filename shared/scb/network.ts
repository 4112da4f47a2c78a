/**
 * Which network a channel list belongs to, from what the sources themselves record — so that a
 * wrong choice (addresses for bitcoin on a regtest node, or the reverse) is caught before the
 * operator sends anyone to the wrong addresses (issue 12 §4).
 *
 * - A lightningd database records the chain it runs on: `vars.genesis_hash`, the genesis block
 *   hash in internal byte order (lightningd wallet/wallet.c wallet_network_check; the constants are
 *   CLN bitcoin/chainparams.c `genesis_blockhash`).
 * - A static channel backup records no chain. Its peers' addresses hint: regtest peers are almost
 *   always on loopback or a private network; peers of a mainnet node rarely are all private.
 */
import type { Network } from './channelKeys';
import type { ScbChannel } from './channels';

/** Genesis block hashes in internal byte order, as lightningd stores vars.genesis_hash (CLN bitcoin/chainparams.c). */
export const GENESIS_HASH_INTERNAL: Readonly<Record<Network, string>> = {
  bitcoin: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
  testnet: '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000',
  signet: 'f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000',
  regtest: '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f',
};

/** The network of a genesis hash (internal byte order, hex), or null for another chain (testnet4, Liquid…). */
export function networkFromGenesisHash(hex: string): Network | null {
  const h = hex.toLowerCase();
  for (const [n, g] of Object.entries(GENESIS_HASH_INTERNAL)) if (g === h) return n as Network;
  return null;
}

/** Loopback, private (RFC 1918, RFC 4193), link-local or "localhost": where regtest peers live. */
export function isPrivateHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local')) return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || a === 0;
  }
  return h === '::1' || h === '::' || /^f[cd][0-9a-f]{2}:/.test(h) || /^fe[89ab][0-9a-f]:/.test(h);
}

/** The host part of a channel's printable peer address ("host:port", "[v6]:port"). */
function hostOf(address: string): string {
  const m = /^(\[[^\]]+\]|[^:]+):\d+$/.exec(address);
  return m ? m[1]! : address;
}

/**
 * Sentences saying why `chosen` may be the wrong network; empty when nothing suggests it.
 * @param recorded the network the source records (a database's genesis hash), if any.
 */
export function networkWarnings(chosen: Network, channels: readonly Pick<ScbChannel, 'peer_address'>[], recorded: Network | null): string[] {
  const out: string[] = [];
  if (recorded !== null && recorded !== chosen)
    out.push(`The database was made on ${recorded} (its genesis_hash), but ${chosen} is chosen: the addresses below are ${chosen} addresses, where the funds will never arrive. Choose ${recorded}.`);
  const hosts = channels.map((c) => c.peer_address).filter((a): a is string => a !== null).map(hostOf);
  if (hosts.length === 0 || recorded !== null) return out;
  const priv = hosts.filter(isPrivateHost).length;
  if (chosen === 'bitcoin' && priv === hosts.length)
    out.push(
      `Every peer address is on a loopback or private network (${[...new Set(hosts)].slice(0, 3).join(', ')}), as on a regtest or test setup: check that this node runs on bitcoin (mainnet) before you use these addresses.`,
    );
  if (chosen === 'regtest' && priv === 0)
    out.push('Every peer has a public or Tor address, which regtest peers almost never have: check that this node runs on regtest.');
  return out;
}

