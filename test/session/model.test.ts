import { describe, expect, it } from 'vitest';
import { parseContainerListing, parseNetworkListing } from '../../lib/docker/listing.js';
import { groupSessions } from '../../lib/session/model.js';
import { listings, psLine } from './fixtures.js';

describe('groupSessions', () => {
  it('groups containers and networks by the session label and finds roles by label', () => {
    const l = listings([{ id: 'a-0001', observe: true }, { id: 'b-0002', mode: 'dood', agent: 'exited' }]);
    const views = groupSessions({ containers: parseContainerListing(l.ps), networks: parseNetworkListing(l.networks) });
    expect(views.map((v) => [v.id, v.live, v.mode, v.observe, v.agent?.name, v.egress?.name, v.networks.length])).toEqual([
      ['a-0001', true, 'contain', true, 'drydock-a-0001', 'drydock-a-0001-egress', 1],
      ['b-0002', false, 'dood', false, 'drydock-b-0002', undefined, 0],
    ]);
  });

  it('an unlabelled-role container is not mistaken for the agent unless its name says so', () => {
    const ps = [
      psLine({ id: '1', name: 'helper', labels: { 'drydock.session': 'a-0001' } }),
      psLine({ id: '2', name: 'drydock-a-0001', labels: { 'drydock.session': 'a-0001' } }),
    ].join('\n');
    const [view] = groupSessions({ containers: parseContainerListing(ps), networks: [] });
    expect(view?.agent?.id).toBe('2');
    expect(view?.others.map((c) => c.id)).toEqual(['1']);
  });
});
