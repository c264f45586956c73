import { isLsyncError } from '../../src/errors.js';
import { generateSecret, parseSecret, secretProblem } from '../../src/webhooks/secret.js';

const b64 = (bytes: number): string => Buffer.alloc(bytes, 7).toString('base64');

function problemOf(secret: string): string {
  try {
    parseSecret(secret);
  } catch (err) {
    if (!isLsyncError(err)) throw err;
    expect(err.code).toBe('LSYNC_ERR_CONFIG');
    // The value is a secret: the message must not quote it.
    const value = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    if (value !== '') expect(err.message).not.toContain(value);
    return err.message;
  }
  return 'valid';
}

describe('parseSecret', () => {
  it('returns the decoded key bytes', () => {
    expect(parseSecret(`whsec_${b64(24)}`)).toEqual(Buffer.alloc(24, 7));
    expect(parseSecret(`whsec_${b64(64)}`)).toHaveLength(64);
    // Unpadded base64 is what Svix-style secrets use.
    expect(parseSecret(`whsec_${b64(32).replace(/=+$/, '')}`)).toEqual(Buffer.alloc(32, 7));
  });

  it('rejects a secret without the whsec_ prefix', () => {
    expect(problemOf(b64(32))).toMatch(/without the "whsec_" prefix/);
    expect(problemOf(`WHSEC_${b64(32)}`)).toMatch(/prefix/);
  });

  it('rejects an empty key', () => {
    expect(problemOf('whsec_')).toMatch(/nothing follows/);
  });

  it('rejects invalid base64 that Buffer.from would silently accept', () => {
    expect(problemOf(`whsec_${b64(32).slice(0, 20)}!!${b64(32).slice(20)}`)).toMatch(/not valid base64/);
    expect(problemOf(`whsec_${b64(30).replace(/\+/g, '-')}-_-_`)).toMatch(/not valid base64/);
    expect(problemOf(`whsec_${b64(32)}A`)).toMatch(/not valid base64/); // padding in the middle
    expect(problemOf(`whsec_${b64(33)}A`)).toMatch(/not valid base64/); // length 4n+1 cannot be base64
  });

  it('rejects a key shorter than 24 or longer than 64 bytes, saying how long it was', () => {
    expect(problemOf(`whsec_${b64(23)}`)).toMatch(/decodes to 23 bytes; expected 24-64/);
    expect(problemOf(`whsec_${b64(65)}`)).toMatch(/decodes to 65 bytes; expected 24-64/);
  });

  it('reports non-strings without throwing from secretProblem', () => {
    expect(secretProblem(undefined)).toMatch(/got undefined/);
    expect(secretProblem(`whsec_${b64(24)}`)).toBeNull();
  });
});

describe('generateSecret', () => {
  it('generates distinct valid secrets of the asked size', () => {
    const a = generateSecret();
    const b = generateSecret(24);
    expect(secretProblem(a)).toBeNull();
    expect(parseSecret(a)).toHaveLength(32);
    expect(parseSecret(b)).toHaveLength(24);
    expect(a).not.toBe(generateSecret());
  });

  it('refuses sizes outside 24-64 bytes', () => {
    expect(() => generateSecret(16)).toThrow(RangeError);
    expect(() => generateSecret(65)).toThrow(RangeError);
  });
});
