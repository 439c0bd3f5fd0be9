// HTTP routes of the service tasks, under /-/tasks (behind the server's Basic auth): the list with next due times and
// last runs, and a manual start.
import express, { type Router } from 'express';
import type { TaskScheduler } from './scheduler.js';

export function taskRoutes(scheduler: TaskScheduler): Router {
  const r = express.Router();
  r.get('/', (_req, res, next) => {
    scheduler
      .status()
      .then((tasks) => res.set('cache-control', 'no-store').json({ tasks }))
      .catch(next);
  });
  r.post('/:name/run', (req, res, next) => {
    const name = String(req.params.name);
    if (!scheduler.has(name)) {
      res.status(404).type('text/plain').send(`404 Not Found: no service task named ${JSON.stringify(name.slice(0, 64))}\n`);
      return;
    }
    scheduler
      .startManual(name)
      .then((run) => res.status(202).json(run))
      .catch(next);
  });
  return r;
}
