// Console pages of scenarios: the list with validation status, and one scenario's diagram beside its YAML.
import type { Router } from 'express';
import { defaultRegistry } from '../../components/registry.js';
import { outlineOfText } from '../../engine/index.js';
import type { ConsoleContext } from './console.router.js';
import { diagramOf, DRAW_LIMIT, layoutOutline, markDiagram, type Diagram } from './scenario-graph.js';
import { scenarioOverview, yamlLines } from './scenario-pages.js';

export function scenarioRoutes(router: Router, ctx: ConsoleContext): void {
  router.get('/scenarios', async (_req, res, next) => {
    try {
      const library = ctx.d.host.library();
      const { entries, otherIssues } = await scenarioOverview(library);
      ctx.render(res, 'scenarios.njk', {
        title: 'Scenarios',
        nav: 'scenarios',
        hookScenario: ctx.d.config.hook.scenario,
        entries: entries.map((e) => ({
          name: e.name,
          file: e.file,
          status: e.status,
          issues: e.issues.length,
          firstIssue: e.issues[0],
          description: e.scenario?.description ?? '',
          blocks: e.scenario?.blocks.size ?? 0,
          version: e.scenario?.version ?? '',
        })),
        otherIssues,
      });
    } catch (e) {
      next(e);
    }
  });

  router.get('/scenarios/:name', async (req, res, next) => {
    try {
      const library = ctx.d.host.library();
      const { entries, otherIssues } = await scenarioOverview(library);
      const entry = entries.find((e) => e.name === req.params.name);
      if (!entry) return ctx.notFound(res, `There is no scenario named “${req.params.name.slice(0, 100)}”.`);
      const { lines, text, error } = await yamlLines(library, entry);
      const s = entry.scenario;
      // A file that never loaded is drawn as far as its YAML can be read, the blocks its errors name outlined.
      let drawn: Diagram | undefined = s ? diagramOf(s) : undefined;
      if (!s && text !== undefined) {
        const outline = outlineOfText(entry.file, text, defaultRegistry);
        const named = new Set(entry.issues.map((i) => i.block));
        for (const b of outline.blocks) if (named.has(b.id)) b.problem = true;
        if (outline.blocks.length) drawn = layoutOutline(outline, DRAW_LIMIT);
      }
      ctx.render(res, 'scenario.njk', {
        title: entry.name,
        nav: 'scenarios',
        entry: { name: entry.name, file: entry.file, status: entry.status, issues: entry.issues },
        scenario: s ? { description: s.description ?? '', version: s.version, blocks: s.blocks.size, variables: [...s.variables.values()].map((v) => ({ name: v.name, type: v.type, description: v.description ?? '' })) } : undefined,
        diagram: drawn ? markDiagram(drawn) : undefined,
        partial: !s && drawn !== undefined,
        // Blocks link to their YAML line only when the file on disk is the version drawn.
        linkLines: entry.status !== 'stale',
        lines,
        readError: error,
        templateIssues: s ? otherIssues.filter((i) => i.block && s.blocks.has(i.block)) : otherIssues,
        isHook: entry.name === ctx.d.config.hook.scenario,
        drawLimit: DRAW_LIMIT,
      });
    } catch (e) {
      next(e);
    }
  });
}
