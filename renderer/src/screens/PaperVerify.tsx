import { useState } from 'react';
import type { PaperDiffView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ActionError, ResultRegion, useAction } from '../components/Feedback';
import { ProgressBar, useJob } from '../components/Progress';
import { SecretTextArea } from '../components/SecretField';
import { TypoCandidates, type RepairResult } from '../components/TypoCandidates';

const NODE_ID = /^0[23][0-9a-f]{64}$/;

/** Hex groups as the sheet lays them out: 4 lines of 4 groups. */
function HexUnits({ units }: { units: PaperDiffView['units'] }) {
  const lines = [0, 1, 2, 3].map((l) => units.filter((u) => Math.floor(u.index / 4) === l));
  return (
    <div className="units units-hex" data-testid="paper-units">
      {lines.map((line, l) => (
        <div key={l} style={{ display: 'contents' }}>
          <span className="line-label">line {l + 1}</span>
          {line.map((u) => (
            <span key={u.index} className={u.ok ? 'unit' : 'unit differs'} title={u.label}>
              {u.typed || '·'}
            </span>
          ))}
        </div>
      ))}
    </div>
  );
}

export function PaperVerify({ secret, params }: ScreenProps) {
  const [copy, setCopy] = useState('');
  const [nodeId, setNodeId] = useState(params.nodeId ?? '');
  // Compare with the loaded secret, or with a node id (the one typed on "Is this your node?" after a mismatch).
  const [against, setAgainst] = useState<'secret' | 'nodeid'>(secret && !params.nodeId ? 'secret' : 'nodeid');
  const [diff, setDiff] = useState<PaperDiffView | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob<RepairResult>(jobId);
  const compareAction = useAction();
  const repairAction = useAction();
  const target = nodeId.trim().toLowerCase();
  const targetValid = NODE_ID.test(target);
  const useSecret = Boolean(secret) && against === 'secret';
  const repairId = useSecret ? secret!.nodeId : targetValid ? target : null;
  const running = job?.state === 'running';

  const compare = async (text = copy) => {
    setJobId(null);
    setDiff(null); // a new comparison replaces the old one, even when it fails
    const d = await compareAction.run(() => call(api().paper.compare({ copy: text, ...(useSecret ? {} : { nodeId: target }) })));
    if (d) setDiff(d);
  };
  const repair = async () => {
    if (!repairId) return;
    const r = await repairAction.run(() => call(api().paper.startRepair({ copy, nodeId: repairId })));
    if (r) setJobId(r.jobId);
  };
  const cancel = () => jobId && void repairAction.run(() => call(api().job.cancel({ jobId })));
  const apply = (index: number) => {
    const c = job?.result?.candidates[index];
    if (!c) return;
    const fixed = diff?.kind === 'hex' ? (c.text.match(/.{4}/g) ?? []).join(' ') : c.text;
    setCopy(fixed);
    void compare(fixed);
  };

  return (
    <section aria-labelledby="paper-title">
      <h1 id="paper-title" tabIndex={-1}>
        Verify a paper backup
      </h1>
      <p>Type your paper copy exactly as written. Nothing leaves this laptop.</p>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void compare();
        }}
      >
        <SecretTextArea id="paper-copy" label="Paper copy (hex groups, words, or codex32)" value={copy} onChange={setCopy} />
        {secret && (
          <fieldset>
            <legend>Compare it with</legend>
            <label>
              <input type="radio" name="against" checked={against === 'secret'} onChange={() => setAgainst('secret')} /> the loaded secret (node{' '}
              {secret.nodeId.slice(0, 8)}…)
            </label>
            <label>
              <input type="radio" name="against" checked={against === 'nodeid'} onChange={() => setAgainst('nodeid')} /> a node id I type
            </label>
          </fieldset>
        )}
        {!useSecret && (
          <div className="field">
            <label htmlFor="paper-nodeid">Your node id (66 hex digits)</label>
            <input id="paper-nodeid" className="mono" spellCheck={false} autoComplete="off" value={nodeId} onChange={(e) => setNodeId(e.target.value)} />
          </div>
        )}
        <button type="submit" disabled={!copy.trim() || (!useSecret && !targetValid)}>
          Compare
        </button>
        <ActionError action={compareAction} />
      </form>

      {diff && (
        <ResultRegion show={diff} className="diff" testId="paper-diff">
          <p className={diff.matches ? 'verdict ok' : 'verdict bad'} role="status">
            {diff.summary}
          </p>
          {diff.kind === 'hex' && diff.units.length > 0 ? (
            <HexUnits units={diff.units} />
          ) : (
            <div className={`units units-${diff.kind}`} data-testid="paper-units">
              {diff.units.map((u) => (
                <span key={u.index} className={u.ok ? 'unit' : 'unit differs'} title={u.label}>
                  {u.typed || '·'}
                </span>
              ))}
            </div>
          )}
          {diff.copyNodeId && (
            <p className="mono small" data-testid="copy-node-id">
              The copy gives node id {diff.copyNodeId}
            </p>
          )}
          {diff.codex32Fixes && diff.codex32Fixes.length > 0 && (
            <div className="candidates" data-testid="codex32-fixes">
              <p>
                The codex32 checksum locates the error{diff.codex32Fixes[0]!.changes.length === 1 ? '' : 's'}. Check these characters on
                your paper (nothing is corrected for you):
              </p>
              <ol>
                {diff.codex32Fixes.map((f, i) => (
                  <li key={i}>{f.changes.map((c) => `character ${c.position + 1}: "${c.from}" → "${c.to}"`).join('; ')}</li>
                ))}
              </ol>
            </div>
          )}
          {!diff.matches && diff.kind !== 'codex32' && repairId && !running && (
            <button type="button" onClick={() => void repair()}>
              {diff.kind === 'hex' ? 'Search for typos (look-alikes, swaps, one or two wrong digits)' : 'Search for typos (swapped, similar or wrong words)'}
            </button>
          )}
          <ActionError action={repairAction} />
        </ResultRegion>
      )}

      {jobId && <ProgressBar status={job} onCancel={cancel} />}
      {job?.state === 'done' && job.result && diff && diff.kind !== 'codex32' && (
        <ResultRegion show={job.result} className="candidates" testId="repair-result">
          <TypoCandidates result={job.result} kind={diff.kind} actionLabel="Apply this correction to the copy" onApply={apply} />
        </ResultRegion>
      )}
    </section>
  );
}
