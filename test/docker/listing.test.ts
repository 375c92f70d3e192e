import { describe, expect, it } from 'vitest';
import {
  mergeTimestampedStreams,
  parseContainerListing,
  parseLabelList,
  parseListingTime,
  parseNetworkListing,
} from '../../lib/docker/listing.js';
import { netLine, psLine } from '../session/fixtures.js';

describe('parseLabelList', () => {
  it('splits k=v pairs and keeps "=" inside values', () => {
    expect(parseLabelList('drydock.session=app-1a2b,a=b=c')).toEqual({ 'drydock.session': 'app-1a2b', a: 'b=c' });
  });
  it('glues a comma-holding value back together instead of inventing a key', () => {
    expect(parseLabelList('desc=one,two,x=1')).toEqual({ desc: 'one,two', x: '1' });
  });
  it('is empty for an empty column', () => {
    expect(parseLabelList('')).toEqual({});
  });
});

describe('parseContainerListing', () => {
  it('reads id, first name, state, labels and creation time', () => {
    const [c] = parseContainerListing(
      `${psLine({ id: 'abc', name: 'drydock-app-1a2b', state: 'exited', labels: { 'drydock.role': 'agent' }, createdAt: '2024-05-01 10:00:00 +0200 CEST' })}\n`,
    );
    expect(c).toMatchObject({ id: 'abc', name: 'drydock-app-1a2b', state: 'exited', labels: { 'drydock.role': 'agent' } });
    expect(c?.createdAtMs).toBe(Date.parse('2024-05-01T08:00:00Z'));
  });
  it('derives the state from Status when an old engine leaves State out', () => {
    const line = JSON.stringify({ ID: 'x', Names: 'n', Status: 'Up 3 seconds (healthy)', Labels: '' });
    expect(parseContainerListing(line)[0]?.state).toBe('running');
  });
  it('refuses a line that is not JSON (a broken listing must not read as "no sessions")', () => {
    expect(() => parseContainerListing('{"ID":"a"}\nnot json\n')).toThrow(/line 2 is not JSON/);
  });
});

describe('parseNetworkListing', () => {
  it('reads the internal flag and labels', () => {
    const [n] = parseNetworkListing(netLine({ id: 'n1', name: 'drydock_internal_app-1a2b', labels: { 'drydock.session': 'app-1a2b' } }));
    expect(n).toEqual({ id: 'n1', name: 'drydock_internal_app-1a2b', driver: 'bridge', internal: true, labels: { 'drydock.session': 'app-1a2b' } });
  });
});

describe('parseListingTime', () => {
  it('parses fractional seconds and offsets', () => {
    expect(parseListingTime('2024-05-01 10:00:00.5 -0100 X')).toBe(Date.parse('2024-05-01T11:00:00Z'));
    expect(parseListingTime('yesterday')).toBeUndefined();
  });
});

describe('mergeTimestampedStreams', () => {
  it('interleaves stdout and stderr by timestamp and drops the stamps', () => {
    const stdout = '2024-05-01T10:00:00.1Z a\n2024-05-01T10:00:00.3Z c\n';
    const stderr = '2024-05-01T10:00:00.2Z b\n2024-05-01T10:00:00.25Z b2\n';
    expect(mergeTimestampedStreams(stdout, stderr)).toBe('a\nb\nb2\nc\n');
  });
  it('orders fractions of different lengths numerically (docker trims trailing zeros)', () => {
    expect(mergeTimestampedStreams('2024-05-01T10:00:00.9Z late\n', '2024-05-01T10:00:00.10000Z early\n')).toBe('early\nlate\n');
  });
  it('keeps unstamped lines after the stamped line before them', () => {
    expect(mergeTimestampedStreams('2024-05-01T10:00:02Z x\ncontinued\n', '2024-05-01T10:00:01Z y\n')).toBe('y\nx\ncontinued\n');
  });
});
