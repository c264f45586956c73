import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.js';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { stream, lines };
}

describe('logger redaction', () => {
  it('never writes API keys, webhook secrets, tokens or auth headers', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    const secrets = ['key-SHOULD-NOT-LEAK', 'id-SHOULD-NOT-LEAK', 'whsec_SHOULDNOTLEAK', 'token-SHOULD-NOT-LEAK', 'Bearer abc-SHOULD-NOT-LEAK', 'read-SHOULD-NOT-LEAK'];
    logger.info({ config: { creatify: { apiKey: secrets[0], apiId: secrets[1] }, webhooks: [{ name: 'a', secret: secrets[2] }], http: { apiToken: secrets[3], readToken: secrets[5] } } }, 'config');
    logger.info({ endpoint: { name: 'a', url: 'https://x', secret: secrets[2] } }, 'endpoint');
    logger.info({ headers: { authorization: secrets[4], 'x-api-key': secrets[0], 'x-api-id': secrets[1] } }, 'request');
    logger.info({ apiKey: secrets[0] }, 'top level');
    const out = lines.join('');
    for (const secret of secrets) expect(out).not.toContain(secret);
    expect(out.match(/\[redacted\]/g)).toHaveLength(10);
    expect(out).toContain('"name":"a"');
  });
});
