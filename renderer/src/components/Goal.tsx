/**
 * The operator's goal, carried from Home through every screen of the journey (issue 12 §6): a
 * strip of steps at the top of each screen on the way, the current one marked.
 */
export type Goal = 'recover' | 'scb';

const STEPS: Record<Goal, { title: string; steps: string[] }> = {
  recover: { title: 'Recover my node', steps: ['Import the hsm_secret', 'Confirm the node id', 'Find and rebuild the backup', 'What to do now'] },
  scb: { title: 'Get channel funds back', steps: ['Import the hsm_secret', 'Confirm the node id', 'Load the channel list', 'Force-close and follow each channel'] },
};

export function goalTitle(goal: Goal): string {
  return STEPS[goal].title;
}

export function GoalSteps({ goal, current, onLeave }: { goal: Goal | null; current: number; onLeave(): void }) {
  if (!goal) return null;
  const { title, steps } = STEPS[goal];
  return (
    <nav className="goal" aria-label={`Your goal: ${title}`} data-testid="goal">
      <strong>{title}:</strong>
      <ol>
        {steps.map((s, i) => (
          <li key={s} className={i < current ? 'done' : undefined} aria-current={i === current ? 'step' : undefined}>
            {i + 1}. {s}
            {i < current ? ' ✓' : ''}
          </li>
        ))}
      </ol>
      <button type="button" className="link" onClick={onLeave}>
        Leave this guide
      </button>
    </nav>
  );
}
