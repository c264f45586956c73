import { loadConfig } from '../config/load.js';
import { startDaemon, type StopResult } from '../daemon.js';
import { LiveScreen, sampleDemo, startDashboard } from '../demo/dashboard.js';
import { DemoReceiver } from '../demo/receiver.js';
import { LsyncError } from '../errors.js';
import { createLogger } from '../logger.js';
import { startPrivateRedis, type PrivateRedis } from '../runtime/private-redis.js';
import { CreatifySimulator } from '../simulator/server.js';
import { generateSecret } from '../webhooks/secret.js';
import { keysFor } from '../store/keys.js';
import { partitionPrefixes } from '../store/partitions.js';
import { deleteKeys } from '../store/cleanup.js';
import { str, type Parsed } from './args.js';
import { waitForSignal } from './run.js';

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new LsyncError('LSYNC_ERR_USAGE', `--${name}: "${value}" must be a positive whole number`);
  return Number(value);
}

/** `lipsync-sync demo`: the whole system on one machine, no setup, no API key. */
export async function demo(parsed: Parsed): Promise<number> {
  const count = positiveInt(str(parsed.values, 'count'), 'count', 500);
  const duration = str(parsed.values, 'duration') === undefined ? undefined : positiveInt(str(parsed.values, 'duration'), 'duration', 1);
  const port = positiveInt(str(parsed.values, 'port') ?? process.env['PORT'], 'port', 9464);
  const verbose = parsed.values['verbose'] === true;
  // The live view replaces info lines (--verbose or LOG_LEVEL brings them back); on a terminal, log lines print above it.
  const screen = new LiveScreen((text) => void process.stdout.write(text), process.stdout.isTTY === true && !verbose, () => process.stdout.columns);
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? (verbose ? 'info' : 'warn'), pretty: process.env['LOG_PRETTY'] !== '0', ...(screen.redraw ? { destination: screen.stream() } : {}) });

  let privateRedis: PrivateRedis | null = null;
  const redisUrl = process.env['REDIS_URL'];
  if (redisUrl === undefined || redisUrl === '') {
    privateRedis = await startPrivateRedis();
    logger.info({ url: privateRedis.url }, 'started a private redis-server (set REDIS_URL to use your own)');
  }
  const simulator = new CreatifySimulator({ autoCreate: true, stepMs: 1500, malformedRate: 0.002, errorRate: 0.02, seed: Date.now() % 100_000 });
  const secret = generateSecret();
  const receiver = new DemoReceiver(secret, logger, { verbose });
  const [creatifyUrl, webhookUrl] = await Promise.all([simulator.start(), receiver.start()]);

  const configPath = str(parsed.values, 'config');
  const { config } = loadConfig({
    ...(configPath === undefined ? {} : { configPath }),
    overrides: {
      creatify: { simulator: true, maxRequestsPerSecond: 20 },
      redis: { ...(privateRedis === null ? {} : { url: privateRedis.url }), prefix: `lsync-demo-${process.pid}` },
      poll: { intervalMs: 2000 },
      webhooks: [{ name: 'demo', url: webhookUrl, secret }],
      http: { port },
    },
  });
  const daemon = await startDaemon(config, logger, { creatifyBaseUrl: creatifyUrl });
  const ids = simulator.addRandom(count);
  await daemon.store.track(ids);
  logger.info({ creatify: creatifyUrl, webhook: webhookUrl, metrics: `${daemon.httpUrl}/metrics`, tracked: ids.length }, 'demo running — Ctrl-C to stop');

  const dashboard = startDashboard({
    sample: () => sampleDemo(daemon, receiver.counts),
    screen,
    intervalMs: 2000,
    statusUrl: daemon.httpUrl === null ? null : `${daemon.httpUrl}/`,
    onError: (err) => logger.warn({ err }, 'demo live view could not read Redis'),
  });
  const stop = async (): Promise<StopResult> => {
    await dashboard.stop();
    const result = await daemon.stop();
    await Promise.all([receiver.stop(), simulator.stop()]);
    // The demo's keys live under their own prefix; leave a shared Redis as we found it.
    if (privateRedis === null) await deleteKeys(config.redis.url, [config.redis.prefix, keysFor(config.redis.prefix).bullPrefix, ...partitionPrefixes(config.redis.prefix, config.redis.partitions)]);
    await privateRedis?.stop();
    return result;
  };
  if (duration !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, duration * 1000));
    return (await stop()).abandoned.length > 0 ? 1 : 0;
  }
  return waitForSignal(stop, { graceMs: config.shutdown.graceMs, logger });
}
