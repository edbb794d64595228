import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_MISSING, findChromium } from './chromium';

describe('findChromium', () => {
  let dir: string;
  const binary = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, 0o755);
    return path;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'find-chromium-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes CHROMIUM_PATH, then PUPPETEER_EXECUTABLE_PATH, then CHROME_PATH', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => binary(join(dir, n)));
    expect(findChromium({ CHROMIUM_PATH: a, PUPPETEER_EXECUTABLE_PATH: b, CHROME_PATH: c }, [])).toBe(a);
    expect(findChromium({ PUPPETEER_EXECUTABLE_PATH: b, CHROME_PATH: c }, [])).toBe(b);
    expect(findChromium({ CHROME_PATH: c }, [])).toBe(c);
  });

  it('refuses a variable that names no binary rather than guessing another', () => {
    expect(() => findChromium({ CHROMIUM_PATH: join(dir, 'nope') }, [])).toThrow(/CHROMIUM_PATH=.*nope/);
  });

  it('then looks on PATH, chromium before chromium-browser before google-chrome, then known paths', () => {
    const bin1 = join(dir, 'bin1');
    const bin2 = join(dir, 'bin2');
    binary(join(bin1, 'google-chrome'));
    binary(join(bin2, 'chromium-browser'));
    expect(findChromium({ PATH: `${bin1}:${bin2}` }, [])).toBe(join(bin2, 'chromium-browser'));
    binary(join(bin1, 'chromium'));
    expect(findChromium({ PATH: `${bin2}:${bin1}` }, [])).toBe(join(bin1, 'chromium'));
    // A directory named like the browser is not a browser.
    mkdirSync(join(dir, 'bin3', 'chromium'), { recursive: true });
    const known = binary(join(dir, 'opt', 'chrome'));
    expect(findChromium({ PATH: join(dir, 'bin3') }, [join(dir, 'missing'), known])).toBe(known);
  });

  it('says how to install it when there is none', () => {
    expect(() => findChromium({ PATH: dir }, [join(dir, 'missing')])).toThrow(CHROMIUM_MISSING);
    expect(CHROMIUM_MISSING).toContain('apt-get install chromium');
  });
});
