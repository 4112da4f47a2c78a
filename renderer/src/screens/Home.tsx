import type { ScreenProps, Screen } from '../App';
import type { Goal } from '../components/Goal';

interface Choice {
  title: string;
  text: string;
  screen: Screen;
  /** Choosing it starts a guided journey that needs the hsm_secret first. */
  goal?: Goal;
}

const CHOICES: Choice[] = [
  {
    title: 'Recover my node',
    text: 'Find your backup on the server (or a copy of its directory), rebuild lightningd.sqlite3 and verify it. Needs the hsm_secret.',
    screen: 'recover',
    goal: 'recover',
  },
  {
    title: 'Get channel funds back (SCB)',
    text: 'When the database is lost or stale: have every peer force-close, and follow each channel until the funds are back.',
    screen: 'scb',
    goal: 'scb',
  },
  {
    title: 'Install the backup',
    text: "The key ceremony: make the plugin's client key and sign its recognition code with your node key, offline.",
    screen: 'install',
  },
  {
    title: 'Run a drill',
    text: "Prove your node's backup restores, without touching the node. Every quarter.",
    screen: 'drill',
  },
  {
    title: 'Verify a paper backup',
    text: 'Check that your written hsm_secret (hex, words or codex32) is right, and find typos.',
    screen: 'paper',
  },
  {
    title: 'Import the hsm_secret',
    text: 'Load the secret from a file, or type it from paper, to see the node id it gives.',
    screen: 'import',
  },
];

export function Home({ go, secret, setGoal }: ScreenProps) {
  const choose = (c: Choice) => {
    setGoal(c.goal ?? null);
    if (c.goal) go(secret ? 'nodeid' : 'import');
    else if (c.screen === 'install' && !secret) go('import');
    else go(c.screen);
  };
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
          <button key={c.title} type="button" className="choice" onClick={() => choose(c)}>
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
