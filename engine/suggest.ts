// "Did you mean …?" suggestions for unknown names, and lists of names kept to one line.

/** `items` joined by commas; past `shown` of them, the first `shown` and how many more (a folder of hundreds stays one line). */
export function someOf(items: readonly string[], shown: number): string {
  return items.length <= shown ? items.join(', ') : `${items.slice(0, shown).join(', ')} and ${items.length - shown} more`;
}

/** The known name closest to `name` by edit distance (case-insensitive), when it is close enough to be a typo. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  const a = name.toLowerCase();
  const limit = Math.max(2, Math.floor(a.length / 3));
  let best: string | undefined;
  let bestDist = Infinity;
  for (const k of known) {
    // Names whose lengths differ by more than the limit are farther than it: not measured (a pasted text thousands of
    // characters long took seconds against the ~600 zone names, at every call of an expression given it).
    const b = k.toLowerCase();
    if (Math.abs(b.length - a.length) > limit) continue;
    const d = distance(a, b);
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  if (best !== undefined && bestDist <= limit) return best;
  return uniquePrefixOf(a, known);
}

/**
 * The scenario meant by `name` when it names no scenario among `known`: a scenario is named without its folder and
 * extension, so `Tick.yaml`, `scenarios/Tick.yml` or `Order.json` (a scenario kept as JSON elsewhere) is the bare
 * name when such a scenario exists; else the closest name, when it looks like a typo.
 */
export function closestScenario(name: string, known: ReadonlySet<string>): string | undefined {
  const bare = bareScenarioName(name);
  if (bare === name) return closest(name, known);
  // A typo inside a file's name (`Ordr.json`, `newtask.yaml`) is a typo of the bare name: the extension and the folder
  // would make every scenario's name too far from it.
  return known.has(bare) ? bare : (bare !== '' ? closest(bare, known) : undefined) ?? closest(name, known);
}

/** `name` without the folder and the extension a file of a scenario has (`scenarios/Order.yaml` → `Order`). */
export function bareScenarioName(name: string): string {
  return name.replace(/^.*[\\/]/, '').replace(/\.(?:ya?ml|json)$/i, '');
}

/**
 * A name cut short (`doc` for `document`, `errorVar` for `errorVariable`, `InputParam` for `InputParameter`) is too far
 * from the whole by edit distance: the one known name it begins, when only one begins with it (2 characters or more).
 */
export function uniquePrefixOf(name: string, known: Iterable<string>): string | undefined {
  const a = name.toLowerCase();
  if (a.length < 2) return undefined;
  const found = new Set<string>();
  for (const k of known) if (k.length > a.length && k.toLowerCase().startsWith(a)) found.add(k);
  return found.size === 1 ? [...found][0] : undefined;
}

function distance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

let zones: readonly string[] | undefined;
let cityZones: ReadonlyMap<string, string> | undefined;

/**
 * Zones IANA renamed (the name now, the name before), which a runtime's list may give by the old name only: Node 20's
 * ICU lists Europe/Kiev and no Europe/Kyiv, though it takes both. A name the runtime takes but does not list is added
 * to the names a guess is looked for in; one it does not take stands for the old name when that is taken, so `KYIV`
 * or `Kolkata` is answered with the zone this runtime accepts.
 */
const RENAMED_ZONES: ReadonlyArray<readonly [string, string]> = [
  ['Europe/Kyiv', 'Europe/Kiev'], ['Asia/Kolkata', 'Asia/Calcutta'], ['Asia/Kathmandu', 'Asia/Katmandu'],
  ['Asia/Ho_Chi_Minh', 'Asia/Saigon'], ['Asia/Yangon', 'Asia/Rangoon'], ['America/Nuuk', 'America/Godthab'],
  ['Atlantic/Faroe', 'Atlantic/Faeroe'], ['Africa/Asmara', 'Africa/Asmera'], ['Pacific/Kanton', 'Pacific/Enderbury'],
];

/** Whether the runtime takes `zone` as a time zone (an IANA name, `UTC`, an old name it still knows). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone names a guess is looked for in: the runtime's list, `UTC`, and the renamed zones it takes but does not list. */
function knownZones(): readonly string[] {
  if (zones === undefined) {
    const listed = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
    for (const [now] of RENAMED_ZONES) if (!listed.has(now) && isTimeZone(now)) listed.add(now);
    zones = [...listed];
  }
  return zones;
}

/**
 * Each zone by its city, the part after the last slash (`Omsk` → `Asia/Omsk`), the first zone of a city kept; a
 * renamed city the runtime does not take (`Kyiv`) gives the old name's zone when that is taken.
 */
function zonesByCity(): ReadonlyMap<string, string> {
  if (cityZones === undefined) {
    const byCity = new Map<string, string>();
    for (const z of knownZones()) {
      const city = z.slice(z.lastIndexOf('/') + 1);
      if (!byCity.has(city)) byCity.set(city, z);
    }
    for (const [now, before] of RENAMED_ZONES) {
      const city = now.slice(now.lastIndexOf('/') + 1);
      if (!byCity.has(city) && isTimeZone(before)) byCity.set(city, before);
    }
    cityZones = byCity;
  }
  return cityZones;
}

/**
 * Time zone abbreviations an administrator may write for `timeZone`, which the runtime does not take as names: the
 * zones of Russia first (Oktell's home), then a few common elsewhere. Only unambiguous ones (not CST, IST, BST, CEST…).
 */
const ZONE_ABBREVIATIONS: Readonly<Record<string, string>> = {
  MSK: 'Europe/Moscow', MSD: 'Europe/Moscow', KALT: 'Europe/Kaliningrad', SAMT: 'Europe/Samara',
  YEKT: 'Asia/Yekaterinburg', OMST: 'Asia/Omsk', NOVT: 'Asia/Novosibirsk', KRAT: 'Asia/Krasnoyarsk',
  IRKT: 'Asia/Irkutsk', YAKT: 'Asia/Yakutsk', VLAT: 'Asia/Vladivostok', MAGT: 'Asia/Magadan', PETT: 'Asia/Kamchatka',
  PST: 'America/Los_Angeles', PDT: 'America/Los_Angeles',
  EDT: 'America/New_York', JST: 'Asia/Tokyo', AEST: 'Australia/Sydney',
};

/**
 * A fixed offset written as `UTC+3`, `GMT+3`, `+03:00`, `UTC-05:00` → the IANA zone of that offset (`Etc/GMT-3`:
 * IANA counts these the other way round), `UTC` for 0; undefined for an offset no `Etc/` zone has (`+05:30`);
 * null when `name` is no offset. Matching such a name by spelling gives `UTC`, hours away from what was meant.
 */
function fixedOffsetZone(name: string): string | undefined | null {
  // The minus may be U+2212 or a dash, as in `UTC−03:00` copied from Wikipedia or a word processor.
  const m = /^(?:UTC|GMT)?\s*([+\-\u2212\u2013])\s*(\d{1,2})(?::?(\d{2}))?$/i.exec(name);
  // `UTC3`, `UTC 3`, `GMT 03:00`: an offset without its sign, which may be either: no guess (by spelling it is UTC).
  if (!m) return /^(?:UTC|GMT)\s*\d/i.test(name) ? undefined : null;
  const plus = m[1] === '+';
  const hours = Number(m[2]);
  if (m[3] !== undefined && Number(m[3]) !== 0) return undefined;
  if (hours === 0) return 'UTC';
  if (hours > (plus ? 14 : 12)) return undefined;
  return `Etc/GMT${plus ? '-' : '+'}${hours}`;
}

/**
 * Russia's time zones as its law names them (МСК−1 … МСК+9), by how many hours they are from Moscow: `MSK+2` is
 * Yekaterinburg time. Each is suggested only while the runtime's own data gives it that offset (checked, not assumed).
 */
const MSK_ZONES: Readonly<Record<number, string>> = {
  [-1]: 'Europe/Kaliningrad', 0: 'Europe/Moscow', 1: 'Europe/Samara', 2: 'Asia/Yekaterinburg', 3: 'Asia/Omsk', 4: 'Asia/Krasnoyarsk',
  5: 'Asia/Irkutsk', 6: 'Asia/Yakutsk', 7: 'Asia/Vladivostok', 8: 'Asia/Magadan', 9: 'Asia/Kamchatka',
};

/** The offset from UTC of `zone` now, in minutes (`Asia/Yekaterinburg` → 300); undefined when the runtime cannot say. */
function offsetMinutes(zone: string): number | undefined {
  try {
    const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(Date.now()).find((p) => p.type === 'timeZoneName')?.value;
    if (name === 'GMT') return 0;
    const m = /^GMT([+-])(\d\d):(\d\d)$/.exec(name ?? '');
    return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `MSK+2`, `МСК+2`, `MSK-1` (Moscow time plus or minus hours, as Russia writes its zones) → that offset as `MSK+2`,
 * its hours from UTC (UTC+3 plus the hours), Russia's zone for it when its offset is that now, and the `Etc/` zone of
 * the offset (`MSK+2`: Asia/Yekaterinburg, Etc/GMT-5). Null when `name` is not written so; no zones for an offset none has.
 */
function moscowOffsetZones(name: string): { written: string; utc: number; russian?: string; fixed?: string } | null {
  const m = /^(?:MSK|МСК)\s*([+\-\u2212\u2013])\s*(\d{1,2})(?::?00)?$/i.exec(name.trim());
  if (!m) return null;
  const hours = (m[1] === '+' ? 1 : -1) * Number(m[2]);
  const utc = 3 + hours;
  const russian = MSK_ZONES[hours];
  const fixed = fixedOffsetZone(`UTC${utc < 0 ? '-' : '+'}${Math.abs(utc)}`);
  return {
    written: `MSK${m[1] === '+' ? '+' : '-'}${Number(m[2])}`,
    utc,
    ...(russian !== undefined && offsetMinutes(russian) === utc * 60 ? { russian } : {}),
    ...(fixed ? { fixed } : {}),
  };
}

/**
 * The IANA time zone closest to `name` (`Europe/Moskow` → `Europe/Moscow`, `Moscow` → `Europe/Moscow`), when it is
 * close enough to be a typo; undefined otherwise.
 */
export function closestTimeZone(name: string): string | undefined {
  const offset = fixedOffsetZone(name.trim());
  if (offset !== null) return offset;
  const moscow = moscowOffsetZones(name);
  if (moscow !== null) return moscow.russian ?? moscow.fixed;
  const abbreviation = ZONE_ABBREVIATIONS[name.trim().toUpperCase()];
  if (abbreviation !== undefined) return abbreviation;
  // An abbreviation we do not know (EKB, CST, IST…) is no typo of a city: "MSK" is one letter from "Omsk", three
  // hours away. No guess is better than a zone that runs a schedule at the wrong hour. A city written in capitals
  // (OMSK, TOMSK, KIEV) is the zone of that city, when one has exactly that name.
  if (/^[A-Z]{2,5}$/.test(name.trim())) {
    const city = name.trim().toLowerCase();
    for (const [c, z] of zonesByCity()) if (c.toLowerCase() === city) return z;
    return undefined;
  }
  // MSK written otherwise than MSK+N (`MSK2`, `MSK+`, `MSK 2`): its sign or hours are unsure, and by spelling it is
  // Omsk (UTC+6), hours from what was meant. No guess, as for `UTC3`.
  if (/^(?:MSK|МСК)(?![a-zа-яё])/i.test(name.trim())) return undefined;
  const guess = closestByName(name.trim(), name.includes('/'));
  // Hours written in the name (`Moscow+2`, `Berlin+1`, `Europe/Moscow+1`) are not a typo to drop: a zone without
  // them is hours from what was meant. A guess keeps the name's digits, or there is none.
  return guess !== undefined && guess.replace(/\D/g, '') === name.replace(/\D/g, '') ? guess : undefined;
}

/** The zone `name` is a typo of, the whole name or (without a slash) the city after the last slash. */
function closestByName(name: string, slash: boolean): string | undefined {
  const whole = closest(name, knownZones());
  if (whole !== undefined || slash) return whole;
  // A bare city: matched against the part after the last slash.
  const byCity = zonesByCity();
  const city = closest(name, byCity.keys());
  return city === undefined ? undefined : byCity.get(city);
}

/**
 * `Etc/GMT-3` as `Etc/GMT-3 (UTC+3, no daylight saving: IANA writes these offsets with the sign reversed)`, so the
 * suggestion for `UTC+3` is not taken for a typo; any other zone as it is.
 */
export function zoneWithNote(zone: string): string {
  const m = /^Etc\/GMT([+-])(\d+)$/.exec(zone);
  return m ? `${zone} (UTC${m[1] === '-' ? '+' : '-'}${m[2]}, no daylight saving: IANA writes these offsets with the sign reversed)` : zone;
}

/**
 * What to suggest for the zone `name` that the runtime does not know, as `did you mean …?` says it: the closest zone
 * with its note (zoneWithNote); for `MSK+2`, Russia's zone and the `Etc/` one, each with what offset it is
 * (`Asia/Yekaterinburg (MSK+2, UTC+5) or Etc/GMT-5 (UTC+5, no daylight saving: …)`). Undefined when nothing fits.
 */
export function suggestedZone(name: string): string | undefined {
  const moscow = moscowOffsetZones(name);
  if (moscow === null) {
    const guess = closestTimeZone(name);
    return guess === undefined ? undefined : zoneWithNote(guess);
  }
  const { written, utc, russian, fixed } = moscow;
  if (russian === undefined || fixed === undefined) {
    const only = russian ?? fixed;
    return only === undefined ? undefined : zoneWithNote(only);
  }
  return `${russian} (${written}, UTC${utc < 0 ? '-' : '+'}${Math.abs(utc)}) or ${zoneWithNote(fixed)}`;
}

/** "did you mean Europe/Moscow? " for a mistyped time zone, or '' when nothing is close. */
export function timeZoneGuess(name: string): string {
  const guess = suggestedZone(name);
  return guess === undefined ? '' : `did you mean ${guess}? `;
}
