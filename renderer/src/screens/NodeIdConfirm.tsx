import { useState } from 'react';
import type { ScreenProps } from '../App';
import { NodeIdDisplay } from '../components/NodeIdDisplay';

const FORMAT_TEXT: Record<string, string> = {
  plain: 'plain 32-byte hsm_secret',
  encrypted: 'encrypted hsm_secret (73 bytes, passphrase)',
  mnemonic: 'mnemonic-format hsm_secret (v25.12+), no passphrase',
  'mnemonic-passphrase': 'mnemonic-format hsm_secret (v25.12+) with passphrase',
};

export function NodeIdConfirm({ secret, go }: ScreenProps) {
  const [known, setKnown] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  if (!secret) return null;
  const k = known.trim().toLowerCase();
  const valid = /^0[23][0-9a-f]{64}$/.test(k);
  return (
    <section aria-labelledby="nodeid-title">
      <h1 id="nodeid-title" tabIndex={-1}>
        Is this your node?
      </h1>
      <p>
        Loaded from {secret.fileName ? <code>{secret.fileName}</code> : `typed ${secret.source}`}: {FORMAT_TEXT[secret.format]}.
      </p>
      <NodeIdDisplay nodeId={secret.nodeId} compareWith={valid ? k : undefined} />
      <label htmlFor="known-id">Compare with the node id you know (from getinfo, your notes, a block explorer):</label>
      <input
        id="known-id"
        className="mono"
        spellCheck={false}
        value={known}
        onChange={(e) => setKnown(e.target.value)}
        placeholder="02… or 03…, 66 hex digits"
      />
      {valid && (
        <p className={k === secret.nodeId ? 'verdict ok' : 'verdict bad'} data-testid="compare-verdict">
          {k === secret.nodeId
            ? 'They match: this secret belongs to that node.'
            : 'They differ (marked groups). Wrong secret, wrong passphrase, or a typo in the secret.'}
        </p>
      )}
      <div className="row">
        <button type="button" onClick={() => setConfirmed(true)}>
          Yes, this is my node
        </button>
        <button type="button" onClick={() => go('paper')}>
          Check my paper copy
        </button>
        <button type="button" onClick={() => go('import')}>
          No — import again
        </button>
      </div>
      {confirmed && (
        <p className="verdict ok" role="status">
          Confirmed. You can now print a paper sheet or export the secret.
        </p>
      )}
    </section>
  );
}
