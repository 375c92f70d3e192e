/** Unit-tier setup: the strict fake docker CLI checks, by itself, that every expected call happened. */
import { afterEach } from 'vitest';
import { verifyFakeRunners } from './fake-runner.js';

afterEach(() => verifyFakeRunners());
