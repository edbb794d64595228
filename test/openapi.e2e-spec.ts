import {
  DOCUMENTS,
  docsGateway,
  fetchServedDocs,
  type OpenApiDocument,
  readCheckedIn,
  REGENERATE,
} from '../infra/openapi/served-docs';

const TOKEN = 'openapi-test-token-0123456789';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];
/** Actions that take no body: the path says it all. */
const BODYLESS = /\/(pause|resume)$/;

interface Operation {
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, { description?: string }>;
}

/** JSON with sorted keys: documents parsed in different realms (fetch, jest's sandbox) compare by content. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );

const operations = (doc: OpenApiDocument) =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, method, path, op: op as Operation })),
  );

/**
 * The OpenAPI documents the gateway serves (issue 19) are the ones checked in under docs/,
 * and describe every route: a request body where it takes one, and its answers.
 */
describe('OpenAPI documents', () => {
  let stop: (() => Promise<void>) | undefined;
  let served: Record<string, OpenApiDocument>;

  beforeAll(async () => {
    const gateway = await docsGateway(TOKEN);
    stop = () => gateway.stop();
    served = await fetchServedDocs(gateway.url, TOKEN);
  });
  afterAll(async () => {
    await stop?.();
  });

  it.each(DOCUMENTS.map((d) => d.file))('%s is what the gateway serves', (file) => {
    const checkedIn = readCheckedIn(file);
    const doc = served[file]!;
    if (canonical(doc) === canonical(checkedIn)) return;
    const keys = new Set([...Object.keys(doc.paths), ...Object.keys(checkedIn.paths)]);
    const paths = [...keys].filter((p) => canonical(doc.paths[p]) !== canonical(checkedIn.paths[p]));
    throw new Error(
      `${file} differs from the document the gateway serves (paths: ${paths.join(', ') || 'none; other fields'}). ` +
        `Run \`${REGENERATE}\` and commit ${file}.`,
    );
  });

  it('documents a request body wherever a route takes one, and at least one answer for every route', () => {
    const problems: string[] = [];
    for (const { at, method, path, op } of operations(served['docs/openapi-admin.json']!)) {
      const takesBody = ['post', 'put', 'patch'].includes(method) && !BODYLESS.test(path);
      if (takesBody && !Object.keys(op.requestBody?.content ?? {}).length)
        problems.push(`${at}: no request body`);
      if (!takesBody && op.requestBody) problems.push(`${at}: a request body it does not take`);
      const answers = Object.entries(op.responses ?? {});
      if (!answers.some(([status, r]) => /^[23]\d\d$/.test(status) && r.description?.trim()))
        problems.push(`${at}: no described success answer`);
      for (const [status, r] of answers)
        if (!r.description?.trim()) problems.push(`${at} ${status}: no description`);
    }
    expect(problems).toEqual([]);
  });

  it('the public document has the partner routes and no operator route; the admin one has both', () => {
    const pub = Object.keys(served['docs/openapi.json']!.paths);
    const admin = Object.keys(served['docs/openapi-admin.json']!.paths);
    expect(pub).toEqual(expect.arrayContaining(['/v1/postbacks/{partnerId}', '/v1/clicks', '/c/{offerId}']));
    expect(pub.filter((p) => /^\/(v1\/(admin|reports)|metrics|dashboard)/.test(p))).toEqual([]);
    expect(admin).toEqual(expect.arrayContaining([...pub, '/v1/admin/offers', '/metrics']));
    // One handler answers every method, but only GET and POST are postbacks (the rest get 405).
    expect(Object.keys(served['docs/openapi.json']!.paths['/v1/postbacks/{partnerId}']!).sort()).toEqual([
      'get',
      'post',
    ]);
  });
});
