// Help texts shared by several commands' definitions, kept apart from what the commands do so that the definitions
// (loaded for --help and --version) stay light.

/** The --data-dir option of the commands that read the store. */
export const STORE_DATA_DIR_HELP = 'data folder of a SQLite store (default $OKTELL_DATA_DIR, dataDir: of the configuration file, or ./var); a PostgreSQL store is named by $OKTELL_STORE (or store: of the configuration file), as for serve';
