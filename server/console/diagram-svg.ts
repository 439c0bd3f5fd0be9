// A scenario diagram as a standalone SVG file: the console's own layout and drawing (scenario-graph.ts and the
// `diagram` macro), with its stylesheet embedded so the file looks the same outside the console.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioOutline } from '../../engine/index.js';
import { consoleSourceDir, createViews } from './console-views.js';
import { layoutOutline, markDiagram } from './scenario-graph.js';

/** The console's colour variables (its `:root` rule) and the diagram's stylesheet, as one CSS text. */
function diagramStyle(): string {
  const assets = join(consoleSourceDir(), 'assets');
  const root = /:root\s*\{[^}]*\}/.exec(readFileSync(join(assets, 'console.css'), 'utf8'))?.[0] ?? '';
  return `${root}\n${readFileSync(join(assets, 'diagram.css'), 'utf8')}`;
}

/** Renders the outline of a scenario (valid, or invalid as far as it could be read) as an SVG document. */
export function diagramSvg(outline: ScenarioOutline): string {
  const views = createViews('UTC');
  const svg = views.render('diagram-file.njk', { diagram: markDiagram(layoutOutline(outline)), name: outline.name, style: diagramStyle() });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${svg.trim()}\n`;
}
