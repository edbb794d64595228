import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { APP_NODE_FLAGS } from './app-process';

/** Tests and benches start the apps with the node flags `npm run up` gives them. */
describe('app node flags', () => {
  it.each(Object.entries(APP_NODE_FLAGS))('%s: spawnApp and infra/bin/apps.sh agree', (app, flags) => {
    const apps = join(__dirname, '..', '..', '..', 'infra', 'bin', 'apps.sh');
    const r = spawnSync(
      'bash',
      [
        '-c',
        `RUN_DIR=$(mktemp -d); ADMIN_TOKEN=x; source "$0"; app_node_flags "$1"; rm -rf "$RUN_DIR"`,
        apps,
        app,
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.split(/\s+/).filter(Boolean)).toEqual(flags);
  });
});
