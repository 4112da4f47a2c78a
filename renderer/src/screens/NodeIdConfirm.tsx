import { useState } from 'react';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { GoalSteps } from '../components/Goal';
import { NodeIdDisplay } from '../components/NodeIdDisplay';
import { ProgressBar, useJob } from '../components/Progress';
import { TypoCandidates, type RepairResult } from '../components/TypoCandidates';

const FORMAT_TEXT: Record<string, string> = {
  plain: 'plain 32-byte hsm_secret',
  encrypted: 'encrypted hsm_secret (73 bytes, passphrase)',
  mnemonic: 'mnemonic-format hsm_secret (v25.12+), no passphrase',
  'mnemonic-passphrase': 'mnemonic-format hsm_secret (v25.12+) with passphrase',
};

export function NodeIdConfirm({ secret, setSecret, go, goal, setGoal }: ScreenProps) {
  const [known, setKnown] = useState('');
  const [confirmed, setConfirmed] = useState(false);
  const [repairJob, setRepairJob] = useState<string | null>(null);
  const repair = useJob<RepairResult>(repairJob);
  const repairAction = useAction();
  if (!secret) return null;
  const k = known.trim().toLowerCase().replace(/\s+/g, '');
  const valid = /^0[23][0-9a-f]{64}$/.test(k);
  const matches = valid && k === secret.nodeId;
  const mismatch = valid && !matches;
  const incomplete = k !== '' && !valid;
  // Typed secrets (hex, words without passphrase) can be searched for the typo; a file cannot.
  const searchable = secret.source === 'hex' || (secret.source === 'words' && secret.format !== 'mnemonic-passphrase');
  const next = goal === 'recover' ? 'recover' : goal === 'scb' ? 'scb' : null;

  const confirm = () => {
    setConfirmed(true);
    if (next) go(next);
  };
  const startRepair = async () => {
    const r = await repairAction.run(() => call(api().secret.startRepair({ nodeId: k })));
    if (r) setRepairJob(r.jobId);
  };
  const apply = async (index: number) => {
    if (!repairJob) return;
    const info = await repairAction.run(() => call(api().secret.applyRepair({ jobId: repairJob, index })));
    if (info) {
      setSecret(info);
      setRepairJob(null);
    }
  };

  return (
    <section aria-labelledby="nodeid-title">
      <GoalSteps goal={goal} current={1} onLeave={() => setGoal(null)} />
      <h1 id="nodeid-title" tabIndex={-1}>
        Is this your node?
      </h1>
      <p>
        Loaded from {secret.fileName ? <code>{secret.fileName}</code> : `typed ${secret.source}`}: {FORMAT_TEXT[secret.format]}.
        {secret.source !== 'file' && ' A single wrong character gives another node: compare with the node id you know.'}
      </p>
      <NodeIdDisplay nodeId={secret.nodeId} compareWith={valid ? k : undefined} />
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (matches) confirm();
        }}
      >
        <label htmlFor="known-id">Compare with the node id you know (from getinfo, your notes, a block explorer):</label>
        <input
          id="known-id"
          className="mono"
          spellCheck={false}
          autoComplete="off"
          value={known}
          aria-invalid={incomplete || mismatch || undefined}
          aria-describedby="compare-verdict"
          onChange={(e) => {
            setKnown(e.target.value);
            setRepairJob(null);
          }}
          placeholder="02… or 03…, 66 hex digits"
        />
        <div id="compare-verdict" aria-live="polite">
          {valid && (
            <p className={matches ? 'verdict ok' : 'verdict bad'} data-testid="compare-verdict">
              {matches
                ? 'They match: this secret belongs to that node.'
                : 'They differ (marked groups). This secret is not that node: a typo in the secret, the wrong file, or the wrong passphrase.'}
            </p>
          )}
          {incomplete && (
            <p className="hint">
              A node id is 66 hex digits starting 02 or 03 ({k.length} typed
              {/[^0-9a-f]/.test(k) ? `, "${/[^0-9a-f]/.exec(k)![0]}" is not a hex digit` : ''}).
            </p>
          )}
        </div>
        <div className="row">
          <button type="button" className="primary" disabled={mismatch || incomplete} onClick={confirm}>
            {next ? `Yes, this is my node — continue to ${next === 'recover' ? 'recovery' : 'the SCB path'}` : 'Yes, this is my node'}
          </button>
          <button type="button" onClick={() => go('paper', valid ? { nodeId: k } : {})}>
            Check my paper copy
          </button>
          <button type="button" onClick={() => go('import')}>
            No — import again
          </button>
        </div>
        {(mismatch || incomplete) && <p className="hint">Confirming is blocked while the node ids differ or the one you typed is incomplete.</p>}
      </form>

      {mismatch && (
        <div className="callout bad" data-testid="mismatch-help">
          <h2>Find what is wrong</h2>
          {searchable ? (
            <p>
              The secret was typed. One or two wrong {secret.source === 'hex' ? 'digits' : 'words'} give a completely different node id: the
              search tries the likely typos (look-alikes, swaps, one or two wrong {secret.source === 'hex' ? 'digits' : 'words'}) against the node id
              you typed, on this laptop.
            </p>
          ) : (
            <p>
              {secret.source === 'file'
                ? 'A file that gives another node id is another node’s file, or (encrypted or with a passphrase) the wrong passphrase: import again.'
                : 'A codex32 string carries a checksum, so a typo would not have loaded: this is another secret. Import again, or check the paper copy.'}
            </p>
          )}
          <div className="row">
            {searchable && !(repairJob && repair?.state === 'running') && (
              <button type="button" onClick={() => void startRepair()}>
                Search for the typo in what I typed
              </button>
            )}
            <button type="button" onClick={() => go('paper', { nodeId: k })}>
              Check my paper copy against this node id
            </button>
          </div>
          <ActionError action={repairAction} />
          {repairJob && <ProgressBar status={repair} onCancel={() => void repairAction.run(() => call(api().job.cancel({ jobId: repairJob })))} />}
          {repair?.state === 'done' && repair.result && (
            <ResultRegion show={repair.result} className="candidates" testId="repair-result">
              <TypoCandidates result={repair.result} kind={secret.source === 'hex' ? 'hex' : 'words'} actionLabel="Load this correction" onApply={(i) => void apply(i)} />
            </ResultRegion>
          )}
        </div>
      )}

      {confirmed && !next && (
        <ResultRegion show={confirmed} className="callout" testId="confirmed">
          <p role="status">Confirmed: this secret is your node’s. What next?</p>
          <div className="row">
            <button type="button" onClick={() => go('recover')}>
              Recover the database
            </button>
            <button type="button" onClick={() => go('sheet')}>
              Print a paper sheet
            </button>
            <button type="button" onClick={() => go('paper')}>
              Verify a paper copy
            </button>
            <button type="button" onClick={() => go('install')}>
              Install the backup
            </button>
          </div>
        </ResultRegion>
      )}
    </section>
  );
}
