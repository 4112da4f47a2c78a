import type { ScreenProps } from '../App';

const CHOICES = [
  {
    title: 'Recover my node',
    text: 'Find your backup on the server (or a copy of its directory), rebuild lightningd.sqlite3 and verify it. Needs the hsm_secret.',
    screen: 'recover' as const,
  },
  {
    title: 'Get channel funds back (SCB)',
    text: 'When the database is lost or stale: have every peer force-close, and follow each channel until the funds are back.',
    screen: 'scb' as const,
  },
  {
    title: 'Install the backup',
    text: 'The key ceremony: make the plugin\'s client key and sign its recognition code with your node key, offline.',
    screen: 'install' as const,
  },
  {
    title: 'Run a drill',
    text: 'Prove the backup restores, without touching a real node. Every quarter.',
    screen: 'drill' as const,
  },
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

/** Screens that need the hsm_secret first: the choice leads to Import. */
const needsSecret = new Set(['recover', 'scb', 'install']);

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
          <button
            key={c.title}
            type="button"
            className="choice"
            onClick={() => go(needsSecret.has(c.screen) && !secret ? 'import' : c.screen)}
          >
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
