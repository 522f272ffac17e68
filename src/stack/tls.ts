// The staging TLS pair for nginx, made with `selfsigned`: reused while valid for more than 30 days.
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeSecretFile } from './env-file.js';

export const CERT_DAYS = 365;
export const RENEW_WITHIN_DAYS = 30;
const DAY_MS = 86_400_000;

export interface CertInfo {
  subject: string;
  validFrom: string;
  validTo: string;
  daysLeft: number;
  fingerprint256: string;
  subjectAltName: string;
}

export function readCert(certFile: string, now = new Date()): CertInfo | undefined {
  if (!existsSync(certFile)) return undefined;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    return {
      subject: cert.subject,
      validFrom: new Date(cert.validFrom).toISOString(),
      validTo: new Date(cert.validTo).toISOString(),
      daysLeft: Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / DAY_MS),
      fingerprint256: cert.fingerprint256,
      subjectAltName: cert.subjectAltName ?? '',
    };
  } catch {
    return undefined;
  }
}

export async function ensureCertificate(opts: { sslDir: string; certFile: string; keyFile: string; regenerate: boolean; now?: Date }): Promise<{ created: boolean; info: CertInfo }> {
  const now = opts.now ?? new Date();
  const current = readCert(opts.certFile, now);
  if (!opts.regenerate && current && existsSync(opts.keyFile) && current.daysLeft > RENEW_WITHIN_DAYS) {
    // A kept key is still a secret: a copy or an editor may have left it readable by others.
    chmodSync(opts.keyFile, 0o600);
    return { created: false, info: current };
  }

  // Loaded only when a certificate is actually made: it costs ~140 ms of start-up otherwise.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: '1001 Stories staging' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + CERT_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: '*.localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  mkdirSync(opts.sslDir, { recursive: true });
  writeSecretFile(opts.keyFile, pems.private);
  writeFileSync(opts.certFile, pems.cert, { mode: 0o644 });
  return { created: true, info: readCert(opts.certFile, now)! };
}
