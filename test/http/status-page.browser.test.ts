/**
 * The status page in a real headless browser (Debian's chromium driven by playwright-core) against a real daemon,
 * real Redis and the Creatify simulator. Skipped, with the reason printed, where chromium is not installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { CreatifySimulator } from '../../src/simulator/server.js';
import { uuid } from '../helpers/lipsync.js';
import { WebhookReceiver } from '../helpers/receiver.js';
import { cleanupPrefix, REDIS_URL, uniquePrefix, waitUntil } from '../helpers/redis.js';
import { SECRET, silentLogger, testConfig } from '../daemon/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';
const TOKEN = 'status-page-token-0123456789';
const READ_TOKEN = 'status-page-read-0123456789';
const CAPABILITY = 'https://cdn.example.test/capability-secret';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) process.stdout.write(`status-page.browser.test: skipped, ${CHROMIUM} is missing (apt-get install -y chromium)\n`);
const describeWithBrowser = haveChromium ? describe : describe.skip;

const prefix = uniquePrefix('statuspage');
const sim = new CreatifySimulator();
const gone = new WebhookReceiver();
let daemon: Daemon;
let browser: Browser;
const [running, queued, failed] = [uuid(101), uuid(102), uuid(103)];

describeWithBrowser('status page in headless chromium', () => {
  beforeAll(async () => {
    gone.defaultStatus = 410; // every delivery dead-letters: the page has something to replay
    const [creatifyUrl, goneUrl] = await Promise.all([sim.start(), gone.start()]);
    const capabilities = { output: `${CAPABILITY}/output.mp4`, editor_url: `${CAPABILITY}/editor`, preview: `${CAPABILITY}/preview.jpg` };
    sim.set(running, { status: 'running', progress: '0.4', ...capabilities });
    sim.set(queued, { status: 'in_queue', ...capabilities });
    sim.set(failed, { status: 'running', progress: '0.1', ...capabilities });
    daemon = await startDaemon(
      testConfig(REDIS_URL, prefix, {
        poll: { intervalMs: 200, missingGraceCycles: 3, stalledAfterSeconds: { in_queue: 1 } },
        webhooks: [{ name: 'gone', url: goneUrl, secret: SECRET }],
        http: { port: 0, host: '127.0.0.1', apiToken: TOKEN, readToken: READ_TOKEN },
      }),
      silentLogger,
      { creatifyBaseUrl: creatifyUrl },
    );
    await daemon.store.track([running, queued, failed]);
    await waitUntil(async () => (await daemon.store.get(failed))?.status === 'running', 'first sighting');
    sim.set(failed, { status: 'failed', failed_reason: 'No face detected in the video' });
    await waitUntil(async () => (await daemon.store.pendingCount()) === 2, 'the failed lipsync to leave the pending set');
    await waitUntil(async () => (await daemon.store.stalled()).length === 1, 'the in_queue lipsync to stall');
    await waitUntil(async () => ((await daemon.webhooks.deadLetters.count())['gone'] ?? 0) >= 3, 'dead letters');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await Promise.all([sim.stop(), gone.stop()]);
    await cleanupPrefix(prefix);
  });

  it('shows counts, stalled ids, failures and dead letters, never a capability URL, and replays with the token', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const scriptErrors: string[] = [];
    page.on('pageerror', (err) => scriptErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') scriptErrors.push(msg.text());
    });
    const response = await page.goto(`${daemon.httpUrl}/`);
    expect(response?.status()).toBe(200);

    expect(await page.textContent('#total-pending')).toBe('2');
    expect(await page.textContent('[data-status="running"] .n')).toBe('1');
    expect(await page.textContent('[data-status="in_queue"] .n')).toBe('1');
    expect(await page.textContent('#stalled')).toContain(queued);
    expect(await page.textContent('#failures')).toContain('face_not_detected');
    expect(await page.textContent('#cycle')).toMatch(/Last poll\s*\d+ s ago/);
    const endpoints = (await page.textContent('#endpoints')) ?? '';
    expect(endpoints).toMatch(/gone\s*disabled/);
    const dead = (await daemon.webhooks.deadLetters.count())['gone'] ?? 0;
    expect(await page.textContent('#replay')).toBe(`Replay dead letters (${dead})`);

    const html = await page.content();
    expect(html).not.toContain(CAPABILITY);
    expect(html).not.toContain('sim.creatify.local');
    expect(html).not.toContain(TOKEN);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/status-page.png`, fullPage: true });

    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept(TOKEN);
    });
    const [replay] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/v1/dead-letters/replay')), page.click('#replay')]);
    expect(prompts).toHaveLength(1);
    expect(replay.request().method()).toBe('POST');
    expect(replay.request().headers()['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(replay.status()).toBe(200);
    expect(((await replay.json()) as { replayed: number }).replayed).toBe(dead);
    await page.locator('#replay-result', { hasText: 'replayed' }).waitFor();
    expect(await page.textContent('#replay-result')).toBe(`replayed ${dead} deliveries`);
    expect(scriptErrors).toEqual([]);
  });

  it('reports a refused token on the page, without replaying', async () => {
    const page = await browser.newPage();
    await page.goto(`${daemon.httpUrl}/`);
    page.on('dialog', (dialog) => void dialog.accept(READ_TOKEN));
    const [replay] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/v1/dead-letters/replay')), page.click('#replay')]);
    expect(replay.status()).toBe(403);
    await page.locator('#replay-result', { hasText: 'refused' }).waitFor();
    expect(await page.textContent('#replay-result')).toContain('HTTP 403');
  });

  it('opens Bull Board only with the write token as Basic password', async () => {
    const basic = (password: string): string => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;
    const anonymous = await fetch(`${daemon.httpUrl}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect((await fetch(`${daemon.httpUrl}/admin/queues`, { headers: { authorization: basic(READ_TOKEN) } })).status).toBe(401);
    expect((await fetch(`${daemon.httpUrl}/admin/queues/api/queues`, { headers: { authorization: basic('wrong') } })).status).toBe(401);

    const context = await browser.newContext({ httpCredentials: { username: 'ops', password: TOKEN } });
    const page = await context.newPage();
    const response = await page.goto(`${daemon.httpUrl}/admin/queues`);
    expect(response?.status()).toBe(200);
    await page.waitForSelector(`text=${daemon.partitions[0]!.poll.queue.name}`, { timeout: 10_000 });
    await context.close();
  });
});
