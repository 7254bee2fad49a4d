import { describe, expect, it } from 'vitest';
import { titleOf } from '../src/domain.ts';

describe('reviews domain', () => {
  it('stores a title trimmed', () => {
    expect(titleOf('  A title ')).toBe('A title');
  });

  it('refuses a blank title, naming the field', () => {
    expect(() => titleOf('   ')).toThrow(expect.objectContaining({ code: 'invalid_input', detail: expect.stringContaining('body.title') }));
  });
});
