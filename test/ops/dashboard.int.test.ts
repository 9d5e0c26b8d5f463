import { afterEach, describe, expect, it } from '@jest/globals';
import { Stack, urls } from '../support/stack.js';

const ADMIN_TOKEN = 'admin-secret-1';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('operator dashboard (/admin/queues)', () => {
  it('when ADMIN_TOKEN is unset, then the dashboard does not exist (404 problem+json)', async () => {
    stack = await Stack.start({ worker: false });
    const res = await fetch(`${stack.apiUrl}/admin/queues`, { headers: { authorization: basic('ops', 'anything') } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('when no or a wrong password is sent, then 401 asks for HTTP Basic; with ADMIN_TOKEN and any user name, then the page loads', async () => {
    stack = await Stack.start({ worker: false, apiEnv: { ADMIN_TOKEN } });
    const anonymous = await fetch(`${stack.apiUrl}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="batchscribe admin"/);
    expect((await anonymous.json()) as object).toMatchObject({ type: 'https://batchscribe.dev/problems/unauthorized' });
    expect((await fetch(`${stack.apiUrl}/admin/queues`, { headers: { authorization: basic('ops', 'wrong-password') } })).status).toBe(401);
    // The API's bearer tokens are not admin credentials.
    expect((await fetch(`${stack.apiUrl}/admin/queues/api/queues`, { headers: { authorization: 'Bearer tok-acme-123' } })).status).toBe(
      401,
    );

    const page = await fetch(`${stack.apiUrl}/admin/queues`, { headers: { authorization: basic('anyone', ADMIN_TOKEN) } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<base href="\/admin\/queues\/"\s*\/?>/);
    // Served without outside requests: every link and script of the page stays on this server.
    expect(html).toMatch(/<link href="static\/css\/[^"]+\.css"/);
    expect([...html.matchAll(/\b(?:href|src)="(https?:)?\/\/[^"]*"/g)].map((m) => m[0])).toEqual([]);
  });

  it('when an operator tries to change a queue, then the read-only dashboard refuses and the batches stay', async () => {
    stack = await Stack.start({ worker: false, apiEnv: { ADMIN_TOKEN } });
    await stack.submit({ file_urls: urls(250) });
    const auth = { authorization: basic('ops', ADMIN_TOKEN) };
    const empty = await fetch(`${stack.apiUrl}/admin/queues/api/queues/batches/empty`, { method: 'PUT', headers: auth });
    expect(empty.status).toBe(405);
    const queues = (await (await fetch(`${stack.apiUrl}/admin/queues/api/queues`, { headers: auth })).json()) as {
      queues: Array<{ name: string; readOnlyMode: boolean; counts: Record<string, number> }>;
    };
    const batches = queues.queues.find((q) => q.name === 'batches');
    expect(batches).toMatchObject({ readOnlyMode: true, counts: expect.objectContaining({ prioritized: 3 }) });
  });

  it('when ADMIN_READ_ONLY=false, then the operator may act on the queues', async () => {
    stack = await Stack.start({ worker: false, apiEnv: { ADMIN_TOKEN, ADMIN_READ_ONLY: 'false' } });
    const res = await fetch(`${stack.apiUrl}/admin/queues/api/queues`, { headers: { authorization: basic('ops', ADMIN_TOKEN) } });
    const body = (await res.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(body.queues.find((q) => q.name === 'batches')?.readOnlyMode).toBe(false);
  });
});
