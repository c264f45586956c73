import {
  DEFAULT_FAILURE_CLASSES,
  classifyFailure,
  compileFailureRules,
  failureClassNames,
} from '../../src/metrics/failure-class.js';

describe('classifyFailure with the default rules', () => {
  it.each([
    ['No face detected in the video', 'face_not_detected'],
    ['Face not detected', 'face_not_detected'],
    ['Could not detect a face in frame 12', 'face_not_detected'],
    ['Audio too long: max 300 seconds', 'audio'],
    ['audio is too short', 'audio'],
    ['Invalid audio file', 'audio'],
    ['Invalid video: unsupported codec', 'video_input'],
    ['Video resolution exceeds 4K', 'video_input'],
    ['Unsupported format .mkv', 'video_input'],
    ['Insufficient credits', 'credits'],
    ['Monthly quota exceeded', 'credits'],
    ['Rejected by content moderation', 'moderation'],
    ['Content policy violation', 'moderation'],
    ['Request rejected', 'moderation'],
    ['Rendering timed out', 'timeout'],
    ['Video processing timeout', 'timeout'],
    ['Internal Server Error', 'internal'],
    ['Something went wrong, please try again', 'internal'],
    ['The llama ate the render', 'other'],
  ])('%j → %s', (reason, expected) => {
    expect(classifyFailure(reason, DEFAULT_FAILURE_CLASSES)).toBe(expected);
  });

  it('does not mistake words that only contain a keyword', () => {
    expect(classifyFailure('invoice surface runtime output', DEFAULT_FAILURE_CLASSES)).toBe('other');
  });

  it('names a null or blank reason unknown', () => {
    expect(classifyFailure(null, DEFAULT_FAILURE_CLASSES)).toBe('unknown');
    expect(classifyFailure('', DEFAULT_FAILURE_CLASSES)).toBe('unknown');
    expect(classifyFailure('  \n', DEFAULT_FAILURE_CLASSES)).toBe('unknown');
  });
});

describe('classifyFailure with custom rules', () => {
  const rules = [
    { class: 'first', pattern: 'alpha' },
    { class: 'second', pattern: 'alpha|beta' },
  ];

  it('lets the first matching rule win', () => {
    expect(classifyFailure('alpha and beta', rules)).toBe('first');
    expect(classifyFailure('just beta', rules)).toBe('second');
  });

  it('matches case-insensitively', () => {
    expect(classifyFailure('ALPHA', rules)).toBe('first');
  });

  it('says other when nothing matches, including with no rules at all', () => {
    expect(classifyFailure('gamma', rules)).toBe('other');
    expect(classifyFailure('gamma', [])).toBe('other');
  });

  it('throws on a pattern that does not compile rather than guessing', () => {
    expect(() => classifyFailure('x', [{ class: 'bad', pattern: '([a-' }])).toThrow(/\(\[a-/);
  });
});

describe('compileFailureRules', () => {
  it('compiles the default rules', () => {
    const compiled = compileFailureRules(DEFAULT_FAILURE_CLASSES);
    expect(compiled).toHaveLength(DEFAULT_FAILURE_CLASSES.length);
    expect(compiled[0]?.regex.flags).toContain('i');
  });

  it('names the bad pattern and its class', () => {
    expect(() =>
      compileFailureRules([
        { class: 'ok', pattern: 'fine' },
        { class: 'audio', pattern: 'audio(too' },
      ]),
    ).toThrow(/rule 1 \("audio"\): pattern "audio\(too" is not a valid regular expression/);
  });

  it('refuses a class that is not snake_case, since it becomes a label value', () => {
    expect(() => compileFailureRules([{ class: 'Audio Problems', pattern: 'audio' }])).toThrow(/class "Audio Problems"/);
  });
});

describe('failureClassNames', () => {
  it('lists each class once plus other and unknown', () => {
    expect(failureClassNames([
      { class: 'a', pattern: 'x' },
      { class: 'a', pattern: 'y' },
      { class: 'b', pattern: 'z' },
    ])).toEqual(['a', 'b', 'other', 'unknown']);
  });
});
