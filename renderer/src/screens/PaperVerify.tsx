import { useState } from 'react';
import type { PaperDiffView, TypoCandidateView } from '../../../shared/ipc/contract';
import type { ScreenProps } from '../App';
import { api, call } from '../api';
import { ProgressBar, useJob } from '../components/Progress';

interface RepairResult {
  candidates: TypoCandidateView[];
  searched: number;
  ms: number;
}

export function PaperVerify({ secret, run }: ScreenProps) {
  const [copy, setCopy] = useState('');
  const [nodeId, setNodeId] = useState('');
  const [diff, setDiff] = useState<PaperDiffView | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useJob<RepairResult>(jobId);
  const target = nodeId.trim().toLowerCase();
  const targetValid = /^0[23][0-9a-f]{64}$/.test(target);
  const against = secret ? 'the loaded secret' : 'the node id you type';

  const compare = async () => {
    setJobId(null);
    const d = await run(() => call(api().paper.compare({ copy, nodeId: !secret && targetValid ? target : undefined })));
    if (d) setDiff(d);
  };
  const repair = async () => {
    const id = secret?.nodeId ?? target;
    const r = await run(() => call(api().paper.startRepair({ copy, nodeId: id })));
    if (r) setJobId(r.jobId);
  };
  const cancel = () => jobId && void run(() => call(api().job.cancel({ jobId })));

  return (
    <section aria-labelledby="paper-title">
      <h1 id="paper-title" tabIndex={-1}>
        Verify a paper backup
      </h1>
      <p>
        Type your paper copy exactly as written. It is compared with {against}; nothing leaves this laptop.
      </p>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void compare();
        }}
      >
        <label htmlFor="paper-copy">Paper copy (hex groups, words, or codex32)</label>
        <textarea
          id="paper-copy"
          rows={4}
          spellCheck={false}
          autoComplete="off"
          value={copy}
          onChange={(e) => setCopy(e.target.value)}
        />
        {!secret && (
          <>
            <label htmlFor="paper-nodeid">Your node id (66 hex digits)</label>
            <input
              id="paper-nodeid"
              className="mono"
              spellCheck={false}
              value={nodeId}
              onChange={(e) => setNodeId(e.target.value)}
            />
          </>
        )}
        <button type="submit" disabled={!copy.trim() || (!secret && !targetValid)}>
          Compare
        </button>
      </form>

      {diff && (
        <div className="diff" data-testid="paper-diff">
          <p className={diff.matches ? 'verdict ok' : 'verdict bad'} role="status">
            {diff.summary}
          </p>
          <div className={`units units-${diff.kind}`}>
            {diff.units.map((u) => (
              <span key={u.index} className={u.ok ? 'unit' : 'unit differs'} title={u.label}>
                {u.typed || '·'}
              </span>
            ))}
          </div>
          {diff.copyNodeId && (
            <p className="mono small" data-testid="copy-node-id">
              The copy gives node id {diff.copyNodeId}
            </p>
          )}
          {!diff.matches && diff.kind !== 'codex32' && (secret || targetValid) && !jobId && (
            <button type="button" onClick={() => void repair()}>
              {diff.kind === 'hex'
                ? 'Search for typos (look-alikes, swaps, one or two wrong digits)'
                : 'Search for typos (swapped, similar or wrong words)'}
            </button>
          )}
        </div>
      )}

      {jobId && <ProgressBar status={job} onCancel={cancel} />}
      {job?.state === 'done' && job.result && (
        <div className="candidates" data-testid="repair-result">
          <p role="status">
            {job.result.candidates.length === 0
              ? `No correction of up to two digits gives this node id (${job.result.searched.toLocaleString()} candidates in ${(job.result.ms / 1000).toFixed(1)} s). Check the node id, or the copy has more errors.`
              : `${job.result.candidates.length} correction(s) give this node id:`}
          </p>
          <ol>
            {job.result.candidates.map((c, i) => (
              <li key={i}>
                {c.kind}:{' '}
                {c.changes
                  .map((ch) => `${diff?.kind === 'words' ? 'word' : 'digit'} ${ch.position + 1}: "${ch.from}" → "${ch.to}"`)
                  .join(', ')}
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
