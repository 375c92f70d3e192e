import { describe, expect, it } from 'vitest';
import { UsageError } from '../../lib/errors.js';
import { agentImage, assertEgressImageAllowed, egressImage } from '../../lib/render/images.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('images', () => {
  it('defaults and overrides', () => {
    expect(agentImage({})).toBe('drydock-agent:latest');
    expect(agentImage({ DRYDOCK_AGENT_IMAGE: 'corp/agent:1' })).toBe('corp/agent:1');
    expect(egressImage({})).toEqual({ image: 'drydock-egress:latest', pinned: false });
    expect(egressImage({ DRYDOCK_EGRESS_IMAGE: `reg.test/egress@${DIGEST}` })).toEqual({ image: `reg.test/egress@${DIGEST}`, pinned: true });
    expect(egressImage({ DRYDOCK_EGRESS_IMAGE: `reg.test/egress:1@${DIGEST}` }).pinned).toBe(true);
  });

  it.each(['-v', 'a b', 'x$HOME', 'img\n'])('refuses %j as an image reference', (image) => {
    expect(() => agentImage({ DRYDOCK_AGENT_IMAGE: image })).toThrow(UsageError);
    expect(() => egressImage({ DRYDOCK_EGRESS_IMAGE: image })).toThrow(UsageError);
  });

  it('does not count a short or non-sha256 digest as pinned', () => {
    expect(egressImage({ DRYDOCK_EGRESS_IMAGE: `e@sha256:${'ab'.repeat(31)}` }).pinned).toBe(false);
    expect(egressImage({ DRYDOCK_EGRESS_IMAGE: `e@sha512:${'ab'.repeat(32)}` }).pinned).toBe(false);
    expect(egressImage({ DRYDOCK_EGRESS_IMAGE: `e:sha256-${'ab'.repeat(32)}` }).pinned).toBe(false);
  });

  it('requires a pinned egress image only when asked to', () => {
    expect(() => assertEgressImageAllowed({})).not.toThrow();
    expect(() => assertEgressImageAllowed({ DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '0' })).not.toThrow();
    expect(() => assertEgressImageAllowed({ DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1' })).toThrow(/not pinned by digest/);
    expect(() => assertEgressImageAllowed({ DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1', DRYDOCK_EGRESS_IMAGE: 'e:latest' })).toThrow(UsageError);
    expect(() => assertEgressImageAllowed({ DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: '1', DRYDOCK_EGRESS_IMAGE: `e@${DIGEST}` })).not.toThrow();
  });

  it('refuses a value of DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE it does not understand', () => {
    expect(() => assertEgressImageAllowed({ DRYDOCK_REQUIRE_PINNED_EGRESS_IMAGE: 'maybe' })).toThrow(UsageError);
  });
});
