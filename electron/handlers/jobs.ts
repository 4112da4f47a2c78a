/** job.*: follow and cancel long-running backend jobs. */
import type { BackendContext, HandlerGroup } from './context';

export function jobHandlers({ session }: BackendContext): HandlerGroup<'job.status' | 'job.cancel'> {
  return {
    'job.status': ({ jobId }) => session.jobs.status(jobId),
    'job.cancel': ({ jobId }) => {
      session.jobs.cancel(jobId);
      return null;
    },
  };
}
