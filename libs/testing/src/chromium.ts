import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Variables that may name the browser, in the order they are read. */
export const CHROMIUM_VARIABLES = ['CHROMIUM_PATH', 'PUPPETEER_EXECUTABLE_PATH', 'CHROME_PATH'] as const;
const COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const KNOWN_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/lib/chromium/chromium',
  '/snap/bin/chromium',
  '/opt/google/chrome/chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
];

export const CHROMIUM_MISSING =
  'no Chromium found for the browser tests. Install it: `sudo apt-get install chromium` (Debian; bash .ci/run does it; ' +
  'on Ubuntu `sudo snap install chromium` or Google Chrome), or set CHROMIUM_PATH to a Chromium or Chrome binary. ' +
  `Looked at ${CHROMIUM_VARIABLES.join(', ')}, then ${COMMANDS.join(', ')} on PATH, then ${KNOWN_PATHS.join(', ')}.`;

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/**
 * The Chromium (or Chrome) binary for browser tests: the first of CHROMIUM_PATH,
 * PUPPETEER_EXECUTABLE_PATH or CHROME_PATH that is set, else the first of `chromium`,
 * `chromium-browser`, `google-chrome` on PATH, else a known install path. Throws saying how to
 * get one when there is none (a test never skips for it), and when a variable names no binary.
 */
export function findChromium(
  env: Record<string, string | undefined> = process.env,
  knownPaths: readonly string[] = KNOWN_PATHS,
): string {
  for (const name of CHROMIUM_VARIABLES) {
    const set = env[name];
    if (!set) continue;
    if (executable(set)) return set;
    throw new Error(`${name}=${set} is not an executable file. Unset it, or point it at a Chromium binary.`);
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const command of COMMANDS)
    for (const dir of dirs) if (executable(join(dir, command))) return join(dir, command);
  for (const path of knownPaths) if (executable(path)) return path;
  throw new Error(CHROMIUM_MISSING);
}
