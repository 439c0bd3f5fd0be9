// Console page of the service tasks: their schedules, next due times and last runs, and a button that starts one now.
import type { Router } from 'express';
import type { ConsoleContext } from './console.router.js';
import { CONSOLE_BASE } from './console-views.js';

export function taskRoutes(router: Router, ctx: ConsoleContext): void {
  router.get('/tasks', async (_req, res, next) => {
    try {
      const tasks = ctx.d.tasks ? await ctx.d.tasks.status() : [];
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
      res.redirect(303, `${CONSOLE_BASE}/runs?job=${encodeURIComponent(jobId)}`);
    } catch (e) {
      next(e);
    }
  });
}
