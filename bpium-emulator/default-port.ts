// The emulator's default port, on its own so that the command line can name it in its help without loading the emulator.
export const DEFAULT_EMULATOR_PORT = 4056;
