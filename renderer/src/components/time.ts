/** A unix time as the recovery screens show it: UTC to the second, and whether it is a file's time. */
export const when = (t?: number, basis?: string) =>
  t ? `${new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC${basis === 'mtime' ? ' (file time)' : ''}` : 'unknown';
