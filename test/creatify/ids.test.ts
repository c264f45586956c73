import { buildIdsQuery, parseLipsyncId } from '../../src/creatify/ids.js';
import { LsyncError } from '../../src/errors.js';
import { uuid } from '../helpers/lipsync.js';

describe('ids', () => {
  it('normalises a valid UUID to lower case', () => {
    expect(parseLipsyncId(' 3C90C3CC-0D44-4B50-8888-8DD25736052A ')).toBe('3c90c3cc-0d44-4b50-8888-8dd25736052a');
  });

  it('rejects a non-UUID with a one-line error naming the field', () => {
    expect(() => parseLipsyncId('abc', 'ids[3]')).toThrow('ids[3]: "abc" is not a lipsync UUID');
    try {
      parseLipsyncId(42);
    } catch (err) {
      expect(err).toBeInstanceOf(LsyncError);
      expect((err as LsyncError).code).toBe('LSYNC_ERR_BAD_ID');
      expect((err as LsyncError).exitCode).toBe(2);
    }
  });

  it('builds the ids query for 1..100 ids and refuses empty or 101', () => {
    const ids = Array.from({ length: 100 }, (_, i) => uuid(i));
    expect(buildIdsQuery(ids).split(',')).toHaveLength(100);
    expect(() => buildIdsQuery([])).toThrow(/empty batch/);
    expect(() => buildIdsQuery([...ids, uuid(100)])).toThrow(/101 ids in one request; .*at most 100/);
    expect(() => buildIdsQuery([uuid(1), 'nope'])).toThrow(/ids\[1\]/);
  });
});
