import type { ScreenProps } from '../App';

const CHOICES = [
  {
    title: 'Verify a paper backup',
    text: 'Check that your written hsm_secret (hex, words or codex32) is right, and find typos.',
    screen: 'paper' as const,
  },
  {
    title: 'Import the hsm_secret',
    text: 'Load the secret from a file, or type it from paper, to see the node id it gives.',
    screen: 'import' as const,
  },
];

export function Home({ go, secret }: ScreenProps) {
  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title" tabIndex={-1}>
        What do you want to do?
      </h1>
      <p className="lead">
        This laptop stays offline. CLDCB brings your Core Lightning node back from its hsm_secret and its encrypted backup.
      </p>
      <div className="choices">
        {CHOICES.map((c) => (
          <button key={c.title} type="button" className="choice" onClick={() => go(c.screen)}>
            <span className="choice-title">{c.title}</span>
            <span className="choice-text">{c.text}</span>
          </button>
        ))}
      </div>
      {secret && (
        <p>
          A secret is loaded.{' '}
          <button type="button" className="link" onClick={() => go('nodeid')}>
            Check its node id
          </button>
        </p>
      )}
    </section>
  );
}
