/**
 * The walking skeleton's demo (npm start): one click and one postback through the running
 * gateway, then both read back from Postgres once the processor has stored them.
 */
import { Client } from 'pg';

const gateway = `http://127.0.0.1:${process.env.PORT || 3000}`;
const db = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const say = (s: string) => console.log(`[demo] ${s}`);

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not appear within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const click = {
    offer_id: 'demo-offer',
    publisher_id: 'demo-pub',
    sub1: 'demo-source',
    placement: 'wall-top',
    geo: 'US',
    device: 'mobile',
  };
  let r = await fetch(`${gateway}/v1/clicks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(click),
  });
  const clickBody = (await r.json()) as { click_id?: string };
  if (r.status !== 201 || !clickBody.click_id)
    throw new Error(`click refused: ${r.status} ${JSON.stringify(clickBody)}`);
  const clickId = clickBody.click_id;
  say(`POST /v1/clicks -> ${r.status} click_id=${clickId}`);

  const tx = `demo-tx-${Date.now()}`;
  r = await fetch(
    `${gateway}/v1/postbacks/demo-partner?clickid=${clickId}&txid=${tx}&status=approved&payout=1.25&currency=USD`,
  );
  say(
    `GET /v1/postbacks/demo-partner?clickid=...&txid=${tx}&status=approved&payout=1.25 -> ${r.status} ${await r.text()}`,
  );

  const pg = new Client({ connectionString: db });
  await pg.connect();
  try {
    const c = await poll(
      'the click in Postgres',
      async () =>
        (await pg.query('SELECT * FROM clicks WHERE click_id = $1', [clickId])).rows[0] as object | undefined,
    );
    say(`clicks row: ${JSON.stringify(c)}`);
    const p = await poll(
      'the postback in Postgres',
      async () =>
        (await pg.query('SELECT * FROM postbacks WHERE transaction_id = $1', [tx])).rows[0] as
          object | undefined,
    );
    say(`postbacks row: ${JSON.stringify(p)}`);
  } finally {
    await pg.end();
  }
  say('the click and the postback went gateway -> Kafka -> processor -> Postgres');
}

main().catch((e: Error) => {
  console.error(`[demo] failed: ${e.message}`);
  process.exit(1);
});
