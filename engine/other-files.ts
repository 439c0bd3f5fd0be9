// Files that are not scenarios but easily land in the scenarios folder: fixture files, scenario test files, a Bpium
// emulator seed, the server's configuration. Every .yaml file directly in the folder is read as a scenario, so such a
// file fails to load; recognised by its shape, it is reported as what it is and where it belongs, instead of with the
// scenario keys it lacks.
import { parse } from 'yaml';
import { SCENARIO_ERROR_CODES as C, type ScenarioIssue } from './errors.js';
import { YamlSource } from './yaml-source.js';

/** Where such files go: sub-folders of the scenarios folder are not read as scenarios. */
const MOVE = 'every .yaml file directly in the scenarios folder is read as a scenario: move this one into a sub-folder (tests/ holds the test files and their fixtures) or out of the folder';

/** Keys of oktell.config.yaml that a scenario never has at the top. */
const CONFIG_KEYS = ['port', 'host', 'users', 'dataDir', 'hook', 'workers', 'store', 'databases', 'webhookSecrets', 'tls', 'bpiumEmulatorPort'];

type Shape = { what: string; use: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What the parsed file looks like, when it is one of the known non-scenario files. */
function shapeOf(file: string, data: unknown): Shape | undefined {
  if (Array.isArray(data) && data.length > 0 && data.every((i) => isRecord(i) && 'match' in i)) {
    return { what: 'an HTTP fixture file (a list of "match:" answers for WebRequest blocks)', use: 'give it to run --http-fixtures, or as http: of a test file' };
  }
  if (/\.test\.ya?ml$/.test(file) || (isRecord(data) && Array.isArray(data.cases) && !('blocks' in data))) {
    return { what: 'a scenario test file (a list of "cases:")', use: 'oktell-emu test reads test files from tests/ of the scenarios folder, named *.test.yaml' };
  }
  if (!isRecord(data) || 'blocks' in data) return undefined;
  if (Array.isArray(data.catalogs)) {
    return { what: 'a Bpium emulator seed (a list of "catalogs:")', use: 'give it to bpium-emulator --seed' };
  }
  if (isRecord(data.catalogs)) {
    return { what: 'a Bpium fixture file ("catalogs:" with their records)', use: 'give it to run --bpium-fixtures, or as bpium: of a test file' };
  }
  const keys = Object.keys(data);
  if (keys.length > 0 && keys.some((k) => CONFIG_KEYS.includes(k)) && !keys.some((k) => k === 'variables' || k === 'start')) {
    return { what: 'the server\'s configuration file (oktell.config.yaml)', use: 'the server reads ./oktell.config.yaml, or the file OKTELL_CONFIG names' };
  }
  return undefined;
}

/**
 * The one problem of a file that failed to load as a scenario and has the shape of a known non-scenario file, or
 * undefined (its problems as a scenario then stand).
 */
export function notAScenario(file: string, text: string): ScenarioIssue | undefined {
  let data: unknown;
  try {
    data = parse(text);
  } catch {
    return undefined;
  }
  const shape = shapeOf(file, data);
  if (!shape) return undefined;
  return {
    ...new YamlSource(file, text).locate([]),
    code: C.NOT_A_SCENARIO,
    message: `this is not a scenario: it looks like ${shape.what}`,
    hint: `${MOVE}; ${shape.use}`,
  };
}
