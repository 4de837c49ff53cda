/** model/dpop.ts's pure parts: the bounded replay cache, htu normalization, the Authorization schemes. */
import { DpopReplayCache, normalizeHtu, parseAuthorization } from '../../model/dpop';

test('the replay cache refuses a jti within its window, forgets it after, and is bounded without forgetting live entries', () => {
  const cache = new DpopReplayCache(2);
  expect([cache.use('a', 100, 10), cache.use('b', 100, 10), cache.use('c', 100, 10)]).toEqual(['fresh', 'fresh', 'full']);
  expect(cache.use('a', 100, 50)).toBe('replayed');
  expect(cache.use('c', 200, 101)).toBe('fresh'); // a and b expired at 100: swept to make room
  expect(cache.use('a', 200, 101)).toBe('fresh');
  expect(cache.size).toBe(2);
  expect(() => new DpopReplayCache(0)).toThrow(RangeError);
});

test('htu is compared without query and fragment, scheme and host in lowercase, default port dropped', () => {
  expect(normalizeHtu('HTTPS://Tools.Example.com:443/v1/run?x=1#y')).toBe('https://tools.example.com/v1/run');
  expect(normalizeHtu('http://h:8080')).toBe('http://h:8080/');
  expect(normalizeHtu('https://h/a/../b')).toBe('https://h/b');
  expect(normalizeHtu('ftp://h/x')).toBeNull();
  expect(normalizeHtu('/relative')).toBeNull();
});

test('Authorization: Bearer or DPoP, any case; anything else is no credential', () => {
  expect(parseAuthorization('dpop abc.def')).toEqual({ scheme: 'dpop', token: 'abc.def' });
  expect(parseAuthorization('Bearer  t ')).toEqual({ scheme: 'bearer', token: 't' });
  expect(parseAuthorization('Basic x')).toBeUndefined();
  expect(parseAuthorization('DPoP a b')).toBeUndefined();
  expect(parseAuthorization(undefined)).toBeUndefined();
});
