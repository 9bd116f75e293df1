import { describe, expect, it } from 'vitest';
import { aspNetBoolean, aspNetEnum, parseAspNetBoolean, queryValuesIgnoringCase } from './aspnet.js';

describe('ASP.NET query binding', () => {
  it('reads booleans as bool.Parse does, in any casing', () => {
    expect(parseAspNetBoolean('True')).toBe(true);
    expect(parseAspNetBoolean(' FALSE ')).toBe(false);
    expect(parseAspNetBoolean('1')).toBeUndefined();
    expect(aspNetBoolean.parse('True')).toBe(true);
    expect(aspNetBoolean.safeParse('yes').success).toBe(false);
  });

  it('reads enums case-insensitively and answers the canonical spelling', () => {
    const status = aspNetEnum(['read', 'unread', 'updatedSinceLastReview']);
    expect(status.parse('Read')).toBe('read');
    expect(status.parse('UPDATEDSINCELASTREVIEW')).toBe('updatedSinceLastReview');
    expect(status.safeParse('gone').success).toBe(false);
  });

  it('finds query parameters whatever their casing', () => {
    const url = new URL('http://h/x?userid=1&UserId=2&other=3');
    expect(queryValuesIgnoringCase(url, 'userId')).toEqual(['1', '2']);
    expect(queryValuesIgnoringCase(url, 'missing')).toEqual([]);
  });
});
