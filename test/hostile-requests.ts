import fc from 'fast-check';
import { isErrorBody } from '@app/testing';

/** Hostile HTTP requests for the hostile-input fuzz: generators, a bounded pool, and the verdict. */

export interface HostileRequest {
  method: string;
  /** Path and query, already encoded (possibly badly, on purpose). */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** The documented operation it aims at (`METHOD /path/{param}`), for coverage counts. */
  route?: string;
}

/** An operation of the operators' OpenAPI document, with the names it is known to read. */
export interface Operation {
  method: string;
  path: string;
  query: string[];
  fields: string[];
  /** A body close to valid (schema examples and required fields), for mutations to start from. */
  base: Record<string, unknown>;
}

type Schema = {
  $ref?: string;
  type?: string;
  example?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
};
type OpenApi = {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: any }>>;
  components?: { schemas?: Record<string, Schema> };
};

/** Every admin and report operation of the running gateway's OpenAPI document. */
export function adminOperations(doc: OpenApi): Operation[] {
  const resolve = (s: Schema | undefined): Schema | undefined =>
    s?.$ref ? doc.components?.schemas?.[s.$ref.split('/').pop()!] : s;
  const baseOf = (s: Schema | undefined, depth = 0): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, p0] of Object.entries(s?.properties ?? {})) {
      const p = resolve(p0);
      if (p?.example !== undefined) out[k] = p.example;
      else if (p?.enum?.length) out[k] = p.enum[0];
      else if (s?.required?.includes(k))
        out[k] = p?.properties && depth < 3 ? baseOf(p, depth + 1) : p?.type === 'integer' ? 1 : 'x';
    }
    return out;
  };
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    if (!/^\/v1\/(admin|reports)(\/|$)/.test(path) && path !== '/metrics') continue;
    for (const [method, op] of Object.entries(byMethod)) {
      const schema = resolve(op.requestBody?.content?.['application/json']?.schema);
      ops.push({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        fields: Object.keys(schema?.properties ?? {}),
        base: baseOf(schema),
      });
    }
  }
  return ops;
}

const MONEY_FIELDS = ['payout', 'payout_cap', 'hold_payout_above', 'max_payout', 'amount'];
/** Names the admin routes read that their schemas do not always list (query DTOs, untyped bodies). */
const KNOWN_NAMES = [
  ...MONEY_FIELDS,
  'id',
  'name',
  'note',
  'action',
  'operator',
  'reason',
  'from',
  'to',
  'group_by',
  'format',
  'limit',
  'offset',
  'before_id',
  'subject',
  'kind',
  'open',
  'status',
  'partner_id',
  'publisher_id',
  'offer_id',
  'source',
  'sub1',
  'placement',
  'geo',
  'scope',
  'url',
  'secret',
  'auth',
  'mode',
  'daily_cap',
  'min_postbacks',
  'min_acceptance_rate',
  'delimiter',
  'columns',
  'file_name',
  'base_url',
  'resolved_within_hours',
  'since',
  'state',
  'blocked',
  'rule',
  'match',
];
const POLLUTION = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__defineGetter__'];

const HALF_EMOJI = '😀'.slice(0, 1);
export const HOSTILE_STRINGS = [
  '123456789012345',
  '123456789012345.123456',
  '12345678901234567890',
  '99999999999999999999.999999',
  '9'.repeat(400),
  '1000000000',
  '999999999.999999',
  '0.0000001',
  '-1',
  '-0',
  '-123456789012345',
  '1e3',
  '1e308',
  'NaN',
  'Infinity',
  '0x10',
  '1,5',
  ' 1.25 ',
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  HALF_EMOJI,
  `ab${HALF_EMOJI}`,
  '\udc00',
  '\ud800\ud800',
  '😀'.repeat(100),
  'a'.repeat(5000),
  'b'.repeat(70_000),
  "' OR 1=1 --",
  '"; DROP TABLE offers; --',
  '{{7*7}}',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'http://169.254.169.254/latest/meta-data/',
  'javascript:alert(1)',
  '2026-02-30',
  '9999-12-31',
  'true',
  'null',
  '__proto__',
  'USD',
  'approved',
  'offer-a',
];
const HUGE_NUMBERS = [
  123456789012345,
  Number('12345678901234567890'), // 20 digits on the wire (12345678901234567000)
  1e21,
  1e308,
  -1,
  -123456789012345,
  -1e308,
  0,
  -0,
  0.1,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 31,
  2 ** 63,
];

const hostileString = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
);

/** A JSON value the way an attacker would send one: anything but what the field wants. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { weight: 6, arbitrary: hostileString },
    { weight: 3, arbitrary: fc.constantFrom<unknown>(...HUGE_NUMBERS, true, false, null) },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom(...POLLUTION, 'a', '$gt'), tie('value'), { maxKeys: 3 }),
    },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({}, [], [[]], { $gt: '' }, { __proto__: null }) },
  ),
})).value;

/** JSON text from entries, so duplicate and `__proto__` keys reach the wire as written. */
export function rawJsonObject(entries: Array<[string, unknown]>): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`;
}

/** Percent-encoding that survives lone surrogates (encoded as the broken UTF-8 they would be). */
export function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return [...s]
      .map((ch) => {
        try {
          return encodeURIComponent(ch);
        } catch {
          return '%ED%A0%80';
        }
      })
      .join('');
  }
}

const BAD_SEGMENTS = [
  '%ZZ',
  '%',
  '%00',
  '%ED%A0%80',
  '%F0%9F%98',
  '..',
  '.',
  '%2e%2e',
  '%2F',
  'a%2Fb',
  ';x=1',
];
const badId = fc.oneof(
  fc.constantFrom('offer-a', 'pub-a', 'partner-a', '1', '0', '-1', '99999999999999999999', 'x'.repeat(201)),
  hostileString.filter((s) => s.length > 0 && s.length < 300).map(enc),
  fc.constantFrom(...BAD_SEGMENTS),
);
const queryKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(...POLLUTION, '__proto__[admin]', 'a[b][c]', 'from[]', '') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const queryValue = fc.oneof(
  { weight: 4, arbitrary: hostileString.filter((s) => s.length < 6000).map(enc) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_SEGMENTS, '2026-01-01', '1', '500', 'csv', 'json') },
);
export const hostileQuery = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 8 })
  .map((pairs) => pairs.map(([k, v]) => `${enc(k)}=${v}`).join('&'));

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/csv',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
];

/** A body for `op`: its near-valid base with fields made hostile, or something else entirely. */
function hostileBody(op: Operation): fc.Arbitrary<{ body?: string; contentType?: string }> {
  const names = [...new Set([...op.fields, ...MONEY_FIELDS, ...KNOWN_NAMES])];
  const field = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(op.fields.length ? op.fields : names)) },
    { weight: 2, arbitrary: fc.constantFrom(...MONEY_FIELDS) },
    { weight: 1, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: fc.constantFrom(...POLLUTION) },
    { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
  );
  const mutated = fc
    .record({
      uid: fc.nat(),
      drop: fc.subarray(Object.keys(op.base), { maxLength: Math.min(2, Object.keys(op.base).length) }),
      set: fc.array(fc.tuple(field, hostileValue), { minLength: 1, maxLength: 4 }),
    })
    .map(({ uid, drop, set }) => {
      const entries = Object.entries(op.base).filter(([k]) => !drop.includes(k));
      const withId = entries.map(([k, v]): [string, unknown] => (k === 'id' ? [k, `fz-${uid}`] : [k, v]));
      return rawJsonObject([...withId, ...set]);
    });
  const json = fc.oneof(
    { weight: 6, arbitrary: mutated },
    { weight: 1, arbitrary: fc.array(fc.tuple(field, hostileValue), { maxLength: 6 }).map(rawJsonObject) },
    { weight: 1, arbitrary: hostileValue.map((v) => JSON.stringify(v) ?? 'null') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '[',
        '{"a":',
        '{"payout": 1e999}',
        '{"payout": 123456789012345678901234567890}',
        '{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"polluted": 1}}}',
        '{"name": "\\ud83d", "id": "\\udc00"}',
        '{"a": "\\u0000"}',
        '{"a":1,"a":2}',
        '\ufeff{}',
        `${'['.repeat(3000)}${']'.repeat(3000)}`,
        `${'{"a":'.repeat(500)}1${'}'.repeat(500)}`,
        JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)),
        'null',
        '0',
        '""',
        '',
      ),
    },
  );
  return fc.oneof(
    { weight: 8, arbitrary: json.map((body) => ({ body, contentType: 'application/json' })) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.oneof(json, hostileString), fc.constantFrom(...CONTENT_TYPES, ''))
        .map(([body, contentType]) => ({ body, contentType: contentType || undefined })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { body: 'transaction_id,status,payout\nt1,approved,123456789012345\n', contentType: 'text/csv' },
        { body: `a,b\n${'"x'.repeat(3000)}\n`, contentType: 'text/csv' },
        { body: '\u0000\u0000\u0000', contentType: 'text/csv' },
        { body: 'x'.repeat(200_000), contentType: 'application/json' },
        { body: 'x'.repeat(200_000), contentType: 'text/csv' },
      ),
    },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

export const AUTH_HEADERS = (adminToken: string) => [
  `Bearer ${adminToken}`,
  `Bearer ${adminToken}`,
  `Bearer ${adminToken}`,
  `Bearer ${adminToken}`,
  `Bearer ${adminToken}`,
  undefined,
  'Bearer',
  'Bearer ',
  `Bearer ${adminToken}x`,
  `Bearer ${adminToken.slice(0, -1)}`,
  `bearer ${adminToken} extra`,
  `Basic ${Buffer.from(`ops:${adminToken}`).toString('base64')}`,
  `Basic ${Buffer.from('ops:').toString('base64')}`,
  'Basic !!!',
  `Bearer ${'a'.repeat(8000)}`,
  'Token 123',
  'Bearer %00',
];

/** A hostile request to one of `ops` (with or without a good token). */
export function adminRequest(ops: Operation[], adminToken: string): fc.Arbitrary<HostileRequest> {
  return fc
    .constantFrom(...ops)
    .chain((op) =>
      fc.record({
        op: fc.constant(op),
        ids: fc.array(badId, { minLength: 4, maxLength: 4 }),
        query: hostileQuery,
        body:
          op.method === 'GET' || op.method === 'DELETE'
            ? fc.constant<{ body?: string; contentType?: string }>({})
            : hostileBody(op),
        // Mostly the good token, so most requests reach validation and the handlers behind it.
        authorization: fc.oneof(
          { weight: 3, arbitrary: fc.constant<string | undefined>(`Bearer ${adminToken}`) },
          { weight: 1, arbitrary: fc.constantFrom(...AUTH_HEADERS(adminToken)) },
        ),
        wrongMethod: fc.oneof(
          { weight: 9, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'POST', 'OPTIONS') },
        ),
      }),
    )
    .map(({ op, ids, query, body, authorization, wrongMethod }) => {
      let i = 0;
      const path = op.path.replace(/\{[^}]+\}/g, () => ids[i++]!);
      const headers: Record<string, string> = {};
      if (authorization !== undefined) headers.authorization = authorization;
      if (body.contentType && body.body !== undefined) headers['content-type'] = body.contentType;
      return {
        method: wrongMethod ?? op.method,
        url: query ? `${path}?${query}` : path,
        headers,
        body: body.body,
        route: `${op.method} ${op.path}`,
      };
    });
}

/** Hostile requests to the public routes: clicks, postbacks, docs, health, and what is not a route. */
export function publicRequest(ids: { offer: string; publisher: string; partner: string }) {
  const paths = fc.oneof(
    fc.constantFrom(
      '/v1/clicks',
      `/c/${ids.offer}`,
      `/v1/postbacks/${ids.partner}`,
      '/v1/postbacks/unknown-partner',
      '/docs',
      '/docs/',
      '/docs/openapi.json',
      '/docs/admin',
      '/docs/admin/openapi.json',
      '/health/live',
      '/health/ready',
      '/metrics',
      '/dashboard',
      '/',
      '/v1',
      '/v1/admin',
      '/v1/postbacks/',
      '/c/',
    ),
    badId.map((id) => `/c/${id}`),
    badId.map((id) => `/v1/postbacks/${id}`),
  );
  return fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'),
      path: paths,
      query: fc.oneof(hostileQuery, fc.constant(`pub=${ids.publisher}`)),
      body: hostileBody({ method: 'POST', path: '', query: [], fields: [], base: {} }),
      clickBody: fc.record(
        {
          offer_id: fc.oneof(fc.constant(ids.offer), hostileValue),
          publisher_id: fc.oneof(fc.constant(ids.publisher), hostileValue),
          sub1: hostileValue,
          geo: hostileValue,
          device: hostileValue,
          ip: hostileValue,
          user_agent: hostileValue,
          placement: hostileValue,
        },
        { requiredKeys: [] },
      ),
      signature: fc.option(
        fc.record({ ts: fc.constantFrom('0', '-1', '99999999999999999999', 'x', ''), sig: hostileString }),
      ),
      authorization: fc.option(fc.constantFrom('Bearer nope', 'Basic Og==', 'Bearer')),
    })
    .map((r): HostileRequest => {
      const headers: Record<string, string> = {};
      let body: string | undefined;
      if (r.method !== 'GET' && r.method !== 'HEAD') {
        if (r.path === '/v1/clicks' && r.body.contentType === 'application/json')
          body = rawJsonObject(Object.entries(r.clickBody));
        else body = r.body.body;
        if (r.body.contentType && body !== undefined) headers['content-type'] = r.body.contentType;
      }
      if (r.signature) {
        headers['x-postback-timestamp'] = r.signature.ts;
        headers['x-postback-signature'] = enc(r.signature.sig);
      }
      if (r.authorization) headers.authorization = r.authorization;
      return { method: r.method, url: `${r.path}?${r.query}`, headers, body };
    });
}

export interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** Sends one request; undefined when the client itself refused to build it (nothing was sent). */
export async function send(baseUrl: string, r: HostileRequest): Promise<Answer | undefined> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl}${r.url}`, {
      method: r.method,
      headers: r.headers,
      body: r.body,
      redirect: 'manual',
    });
  } catch (e) {
    if (e instanceof TypeError && !/fetch failed/.test(e.message)) return undefined;
    throw e;
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}

/** What is wrong with an answer: a 5xx, or a 4xx without the JSON error shape. */
export function problem(r: HostileRequest, a: Answer): string | undefined {
  const bad = a.status >= 500 || (a.status >= 400 && r.method !== 'HEAD' && !isErrorBody(a.body));
  if (!bad) return undefined;
  return (
    `${a.status} ${r.method} ${r.url.slice(0, 400)}\n  headers=${JSON.stringify(r.headers).slice(0, 300)}` +
    `\n  body=${JSON.stringify(r.body?.slice(0, 600))}\n  -> ${JSON.stringify(a.body).slice(0, 300)}`
  );
}

/**
 * Problems grouped by what they are (status, method, route, error code), each with a count and
 * its first example in full, so one bug reads as one line and not as hundreds.
 */
export class Problems {
  private readonly byKind = new Map<string, { count: number; example: string }>();

  add(r: HostileRequest, a: Answer): void {
    const p = problem(r, a);
    if (!p) return;
    const segments = r.url.split('?')[0]!.split('/');
    const route = r.route ?? segments.slice(0, segments[1] === 'v1' ? 3 : 2).join('/');
    const error = (a.body as { error?: unknown; code?: unknown } | null)?.error;
    const code =
      typeof error === 'object' && error !== null
        ? String((error as { code?: unknown }).code)
        : String((a.body as { code?: unknown } | null)?.code);
    // The router's own refusals (bad percent-encoding, over-long path parameters) happen before
    // any route runs: one kind each, whatever the route.
    const kind = code.startsWith('FST_')
      ? `${a.status} (${code}, Fastify's error shape, not {"error": {"code", "message"}}) on any route`
      : `${a.status} ${r.method} ${route} (${code})`;
    const seen = this.byKind.get(kind);
    if (seen) seen.count++;
    else this.byKind.set(kind, { count: 1, example: p });
  }

  /** `kind x count, e.g.: example` for each kind; empty when nothing was wrong. */
  list(): string[] {
    return [...this.byKind].map(([kind, { count, example }]) => `${kind} x${count}, e.g.: ${example}`);
  }
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}
