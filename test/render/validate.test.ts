import { describe, expect, it } from 'vitest';
import { ExitCode, ExternalError } from '../../lib/errors.js';
import { renderOverlay } from '../../lib/render/overlay.js';
import { validateCompose } from '../../lib/render/validate.js';
import { testSpec } from './spec.js';

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('validateCompose', () => {
  it.each([
    ['contain', false],
    ['contain', true],
    ['dood', false],
  ] as const)('accepts the rendered %s files (observe %s)', (mode, observe) => {
    const { base, overlay } = renderOverlay(testSpec({ mode, observe, dockerSocketGid: 999 }));
    expect(() => validateCompose(base, 'docker-compose.yml')).not.toThrow();
    expect(() => validateCompose(overlay, 'overlay')).not.toThrow();
  });

  it('rejects an invalid document with an exit-3 error naming the field and the label', () => {
    const error = thrown(() =>
      validateCompose({ services: { drydock: { cap_add: 'ALL', depends_on: { x: { condition: 'whenever' } } } } }, 'docker-compose.yml'),
    );
    expect(error).toBeInstanceOf(ExternalError);
    expect((error as ExternalError).exitCode).toBe(ExitCode.External);
    const message = (error as ExternalError).message;
    expect(message).toMatch(/^docker-compose\.yml: not a valid compose file: /);
    expect(message).toContain('/services/drydock/cap_add: must be array');
  });

  it('rejects unknown keys and bad durations', () => {
    expect(() => validateCompose({ services: { s: { image: 'x', healthcheck: { interval: 'soon' } } } }, 'f')).toThrow(/interval: must match format "duration"/);
    expect(() => validateCompose({ services: { s: { image: 'x', readonly: true } } }, 'f')).toThrow(/additional properties "readonly"/);
    expect(() => validateCompose({ services: { s: { depends_on: { x: { condition: 'whenever' } } } } }, 'f')).toThrow(/service_healthy/);
    expect(() => validateCompose({ services: { s: { image: 'x' } }, name: 'x' }, 'f')).toThrow(/additional properties "name"/);
  });
});
