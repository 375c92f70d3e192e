/**
 * An extra CA (a TLS-inspecting corporate proxy, a test CA): DRYDOCK_EXTRA_CA_CERTS=FILE.
 * Node-based clients ADD NODE_EXTRA_CA_CERTS to their roots; the others (OpenSSL's SSL_CERT_FILE,
 * requests, curl, git) REPLACE their roots with the file they are given, so those get a bundle of
 * the host's system roots plus the extra CA, written into the session directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Env } from '../context.js';
import { UsageError } from '../errors.js';

export const EXTRA_CA_VARIABLE = 'DRYDOCK_EXTRA_CA_CERTS';
/** In the agent, both read-only. */
export const EXTRA_CA_PATH = '/etc/ssl/drydock/extra-ca.pem';
export const CA_BUNDLE_PATH = '/etc/ssl/drydock/ca-bundle.pem';
/** Variables that replace a client's roots with the bundle. */
export const BUNDLE_VARIABLES = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO'] as const;
/** Where Debian/Ubuntu, Fedora/RHEL and Alpine/macOS keep the system roots. */
export const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

export interface ExtraCa {
  /** The user's file, as given. */
  source: string;
  /** Its PEM certificates only (anything between them dropped). */
  extraPem: string;
  /** System roots + extra, for the replacing variables. */
  bundlePem: string;
  /** The system bundle used, if one was found. */
  systemBundle?: string;
  certificates: number;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/** Only certificates go into the agent: a private key pasted into the file by mistake stays out. */
export function pemCertificates(text: string): string[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => m[0].replace(/\r\n/g, '\n'));
}

export function loadExtraCa(env: Env, io: { read?: (path: string) => string; exists?: (path: string) => boolean } = {}): ExtraCa | undefined {
  const source = (env[EXTRA_CA_VARIABLE] ?? '').trim();
  if (source === '') return undefined;
  const read = io.read ?? ((path: string) => readFileSync(path, 'utf8'));
  const exists = io.exists ?? existsSync;
  let text: string;
  try {
    text = read(source);
  } catch (error) {
    throw new UsageError(`${EXTRA_CA_VARIABLE}: cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      hint: `point ${EXTRA_CA_VARIABLE} at a readable PEM file of CA certificates, or unset it`,
    });
  }
  const certs = pemCertificates(text);
  if (certs.length === 0) {
    throw new UsageError(`${EXTRA_CA_VARIABLE}: ${source} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, {
      hint: 'convert a DER file with: openssl x509 -inform der -in ca.cer -out ca.pem',
    });
  }
  const extraPem = `${certs.join('\n')}\n`;
  const systemBundle = SYSTEM_BUNDLES.find((path) => exists(path));
  const system = systemBundle ? pemCertificates(read(systemBundle)) : [];
  const bundlePem = `${[...system, ...certs].join('\n')}\n`;
  return { source, extraPem, bundlePem, systemBundle, certificates: certs.length };
}
