// Help texts shared by several commands' definitions, kept apart from what the commands do so that the definitions
// (loaded for --help and --version) stay light.

/** The --data-dir option of the commands that read the store. */
export const STORE_DATA_DIR_HELP = 'data folder of a SQLite store (default $OKTELL_DATA_DIR, dataDir: of the configuration file, or ./var); a PostgreSQL store is named by $OKTELL_STORE (or store: of the configuration file), as for serve';

/**
 * The --data-dir option of the commands that find the server through its data folder as `serve` does (outbox,
 * webhook send, demo): the flag, OKTELL_DATA_DIR, dataDir: of the configuration file, ./var.
 */
export const SERVER_DATA_DIR_HELP = 'data folder of the server (default $OKTELL_DATA_DIR, dataDir: of the configuration file, or ./var)';

/**
 * The --data-dir option of `bpium-emulator`, which reads no configuration file: its folder is the flag, OKTELL_DATA_DIR
 * or ./var, even where an oktell.config.yaml names another (the folder of `serve` is then given with -d).
 */
export const EMULATOR_DATA_DIR_HELP = 'data folder for bpium-emulator.sqlite (default $OKTELL_DATA_DIR or ./var; the configuration file is not read, so give -d for the dataDir: it names)';

/** The --scenarios option: every command finds the folder as serve does. */
export const SCENARIOS_FOLDER_HELP = 'scenarios folder (default $OKTELL_SCENARIOS, scenarios: of the configuration file, or ./scenarios, as serve reads it)';

/** The --config option of the commands that read the server's configuration file. */
export const CONFIG_FILE_HELP = 'configuration file, as serve reads it (default $OKTELL_CONFIG or ./oktell.config.yaml)';

/** `runs --grep`, `--where`, `--scan`: what a search reads (server/run-search.ts). */
export const RUNS_GREP_HELP = "only runs whose recorded input parameters or return values hold this text: case-insensitive in any script (Иван finds иван), taken literally (% _ * are plain characters); values only, not key names; a webhook's body is searched as its hook run recorded it (input parameter 4); parameters kept masked (secrets, a hook's headers) are searched masked";
export const RUNS_WHERE_HELP = "only runs with this field: a path into the input parameters (data.id, items[0].email, $.data.id; return.<name> for a return value) whose value as text equals value (4711 matches the number and the string); also looked for inside a parameter whose text is JSON, such as a hook run's body";
export const RUNS_SCAN_HELP = 'with --grep or --where: how many of the newest runs the other filters select are read and searched (default 10000, at most 200000); a note says when older ones were left unread';
