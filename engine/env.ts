// How every environment variable is read: the one rule that a blank value is no value. Each reader of the server, the
// CLI, the adapters and the scenarios' `env:` variables goes through envSetting, so none can tell `X=` or `X="  "`
// (a systemd EnvironmentFile line, `export X=`, a compose template's empty `${X}`) from X not being set at all.

/** An environment: `process.env`, or the object a command or a test gives instead. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * An environment variable's value, or undefined when it is unset or blank (empty or whitespace only). A blank one
 * means "not set here": the configuration file's setting, else the default, applies, instead of an empty value
 * quietly beating `store: postgres://…` or a port of spaces being read as 0. A value that is not blank is returned as
 * it is (each reader trims it or not, as it always did).
 */
export function envSetting(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** The variables of `env` that are set (not blank) and whose names start with `prefix`, with their values. */
export function envSettingsWithPrefix(env: Env, prefix: string): [name: string, value: string][] {
  return Object.keys(env).flatMap((name) => {
    const v = name.startsWith(prefix) ? envSetting(env, name) : undefined;
    return v === undefined ? [] : [[name, v] as [string, string]];
  });
}

/**
 * How a message says that `name` gave no value: "is blank" when it is set to nothing or to spaces (a reader taking it
 * for unset would otherwise send the administrator looking for a variable that is there), else "is not set".
 */
export function unsetOrBlank(env: Env, name: string): 'is blank' | 'is not set' {
  return env[name] === undefined ? 'is not set' : 'is blank';
}
