// Console page of the service tasks: their schedules, next due times and last runs, and a button that starts one now.
import type { Router } from 'express';
import { replayCommandFor } from '../../cli/config.js';
import { clipText } from '../../engine/cut-text.js';
import { lastRunState, skippingRun, type TaskStatus } from '../tasks/scheduler.js';
import type { ConsoleContext } from './console.router.js';
import { consoleBase } from './console-views.js';

/** How much of a last error's message the page shows (the run's page has it whole). */
const ERROR_CHARS = 300;

export function taskRoutes(router: Router, ctx: ConsoleContext): void {
  router.get('/tasks', async (_req, res, next) => {
    try {
      // Due times come as ISO 8601 in each task's zone (as `oktell-emu tasks` prints them); the page shows them in the
      // console's one format, the wall-clock time in that zone, which the row names under the schedule.
      const tasks = await Promise.all(
        (ctx.d.tasks ? await ctx.d.tasks.status() : []).map(async (t) => {
          const r = t.lastRun;
          const skipping = skippingOf(t);
          if (!r) return { ...t, next: t.next.map(wallClock), lastRun: null, skipping };
          const state = lastRunState(r);
          // The message of the last error is the job's (the listing keeps its code only).
          const job = state === 'other' ? undefined : await ctx.d.store.getJob(r.jobId);
          const error = job?.lastError && typeof job.lastError === 'object' && !Array.isArray(job.lastError) ? (job.lastError as Record<string, unknown>) : undefined;
          const message = typeof error?.message === 'string' ? error.message : '';
          return {
            ...t,
            next: t.next.map(wallClock),
            skipping,
            lastRun: {
              ...r,
              state,
              createdAt: wallClock(r.createdAt),
              ...(r.dueAt ? { dueAt: wallClock(r.dueAt) } : {}),
              ...(r.finishedAt ? { finishedAt: wallClock(r.finishedAt) } : {}),
              ...(r.nextAttemptAt ? { nextAttemptAt: wallClock(r.nextAttemptAt) } : {}),
              errorMessage: message.length > ERROR_CHARS ? `${clipText(message, ERROR_CHARS - 1)}…` : message,
              ...(state === 'dead' || state === 'failed' ? { replay: replayCommandFor(r.jobId, ctx.d.config) } : {}),
            },
          };
        }),
      );
      ctx.render(res, 'tasks.njk', { title: 'Service tasks', nav: 'tasks', tasks });
    } catch (e) {
      next(e);
    }
  });

  router.post('/tasks/:name/run', ctx.form, ctx.sameOrigin, async (req, res, next) => {
    try {
      const name = String(req.params.name);
      if (!ctx.d.tasks?.has(name)) return ctx.notFound(res, 'There is no such service task.');
      const jobId = await ctx.d.tasks.runNow(name);
      ctx.d.workers.wake();
      ctx.d.logger.info({ task: name, jobId, user: res.locals.user }, 'service task started from the console');
      // The runs of that job, with a notice that it started (as Replay has): a quick task may already be done.
      res.redirect(303, `${consoleBase(res)}/runs?${new URLSearchParams({ job: jobId, started: name })}`);
    } catch (e) {
      next(e);
    }
  });
}

/**
 * The run whose retries make an `overlap: skip` task skip its due times, as `oktell-emu tasks` says it (skippingRun
 * decides for both), its times in the console's format.
 */
function skippingOf(t: TaskStatus) {
  const w = skippingRun(t);
  return w ? { ...w, dueAt: wallClock(w.dueAt), ...(w.nextAttemptAt ? { nextAttemptAt: wallClock(w.nextAttemptAt) } : {}) } : undefined;
}

/** `2026-12-02T05:26:00+03:00` → `2026-12-02 05:26:00`: the console's time format, in the zone the ISO text is in. */
export function wallClock(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? iso.slice(0, 19).replace('T', ' ') : iso;
}
