// Transformers: deterministic per key, consistent across tables, obviously fake, never the input.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import {
  createTransformers,
  STAGING_PASSWORD,
  STAGING_PASSWORD_HASH,
  UniquenessRegistry,
} from '../../src/anonymize/index.js';
import { missingPrerequisite } from '../helpers/prerequisite.js';

const KEY = 'test-key-0123456789abcdef-rehearse';
const OTHER_KEY = 'another-key-0123456789abcdef-xyz';
const REF = '2024-06-15';
const tx = createTransformers(KEY, { referenceDate: REF });

describe('email', () => {
  it('maps to a readable pseudonym at staging.local, the same on every call and every instance with the same key', () => {
    const a = tx.email('maria.garcia@example.com');
    expect(a).toMatch(/^user-[0-9a-f]{8}@staging\.local$/);
    expect(tx.email('maria.garcia@example.com')).toBe(a);
    expect(createTransformers(Buffer.from(KEY), { referenceDate: REF }).email('maria.garcia@example.com')).toBe(a);
  });

  it('gives different pseudonyms under a different key', () => {
    const other = createTransformers(OTHER_KEY, { referenceDate: REF });
    expect(other.email('maria.garcia@example.com')).not.toBe(tx.email('maria.garcia@example.com'));
  });

  it('normalises case and surrounding blanks, but keeps plus-tags apart', () => {
    expect(tx.email('  Maria.Garcia@Example.COM ')).toBe(tx.email('maria.garcia@example.com'));
    expect(tx.email('maria.garcia+shop@example.com')).not.toBe(tx.email('maria.garcia@example.com'));
  });

  it('keeps null and empty values', () => {
    expect(tx.email(null)).toBeNull();
    expect(tx.email('')).toBe('');
  });

  it('rejects a key too short to resist guessing', () => {
    expect(() => createTransformers('short')).toThrow(UserError);
  });
});

describe('name, phone, city, postal code', () => {
  it('gives a plausible "First Last" name, deterministic and not the input', () => {
    const n = tx.name('José Núñez');
    expect(n).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    expect(tx.name('José Núñez')).toBe(n);
    expect(n).not.toBe('José Núñez');
    expect(tx.name(null)).toBeNull();
  });

  it('keeps the phone format and digit count, and reads as an obviously fake 555-01xx number', () => {
    const p = tx.phone('+1 (212) 555-7890');
    expect(p).toMatch(/^\+1 \(\d{3}\) 555-01\d\d$/);
    expect(p).not.toContain('212');
    expect(tx.phone('010-1234-5678')).toMatch(/^\d{3}-\d555-01\d\d$/);
    expect(tx.phone('+1 (212) 555-7890')).toBe(p);
  });

  it('replaces postal codes letter for letter and digit for digit', () => {
    const z = tx.postalCode('SW1A 1AA');
    expect(z).toMatch(/^[A-Z]{2}\d[A-Z] \d[A-Z]{2}$/);
    expect(z).not.toBe('SW1A 1AA');
  });
});

describe('ip', () => {
  const inTestNet = (ip: string) => /^(24\d|25[0-5])\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);

  it('maps IPv4 into the reserved 240.0.0.0/4 block, deterministically (not the documentation ranges test data uses)', () => {
    for (const ip of ['10.0.0.1', '172.16.5.4', '8.8.8.8', '255.255.255.255', '192.0.2.7', '198.51.100.9']) {
      const m = inTestNet(tx.ip(ip));
      expect(m, ip).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(240);
      expect(Number(m![4])).toBeGreaterThanOrEqual(1);
      expect(Number(m![4])).toBeLessThanOrEqual(254);
      expect(tx.ip(ip)).toBe(tx.ip(ip));
    }
  });

  it('never returns a production address, even when the first derivation lands on one', () => {
    const first = tx.ip('203.0.113.5');
    const guarded = createTransformers(KEY, { dictionary: { ipAddresses: new Set([createTransformers(KEY).ip('203.0.113.5')]) } });
    const again = guarded.ip('203.0.113.5');
    expect(again).not.toBe(createTransformers(KEY).ip('203.0.113.5'));
    expect(inTestNet(again)).not.toBeNull();
    expect(first).toBe(tx.ip('203.0.113.5'));
  });

  it('maps IPv6 into 2001:db8::/32 and keeps an inet prefix length', () => {
    expect(tx.ip('2a00:1450:4001:82a::200e')).toMatch(/^2001:db8(:[0-9a-f]{1,4}){6}$/);
    expect(tx.ip('::ffff:10.1.2.3')).toMatch(/^2001:db8:/);
    expect(tx.ip('10.1.2.3/32')).toMatch(/^2[45]\d\.\d+\.\d+\.\d+\/32$/);
  });

  it('replaces each address in a forwarded-for list', () => {
    const out = tx.ip('10.0.0.1, 8.8.4.4');
    const parts = out.split(', ');
    expect(parts).toHaveLength(2);
    for (const p of parts) expect(inTestNet(p)).not.toBeNull();
  });
});

describe('scrub (opt-in: text kept, PII in it replaced)', () => {
  it('replaces embedded e-mails with the same pseudonym the email rule gives, and phones, keeping the rest', () => {
    const text = 'Hi! Contact Maria at Maria.Garcia@example.com or +1 (212) 555-7890 before 2024-06-01. Thanks, 12 kids.';
    const out = tx.scrub(text);
    expect(out).toContain(tx.email('maria.garcia@example.com'));
    expect(out).not.toContain('example.com');
    expect(out).not.toContain('212');
    expect(out).toMatch(/^Hi! Contact Maria at user-[0-9a-f]{8}@staging\.local or \+1 \(\d{3}\) 555-01\d\d before 2024-06-01\. Thanks, 12 kids\.$/);
  });

  it('leaves dates, prices, decimals and thousands alone, and replaces IPv4 and card numbers', () => {
    const text = 'Paid $1,250.00 (1.000.000 won) on 15/06/2024, pi is 3.14159265, from 10.20.30.40 with card 4242 4242 4242 4242.';
    const out = tx.scrub(text);
    expect(out).toContain('$1,250.00');
    expect(out).toContain('1.000.000 won');
    expect(out).toContain('15/06/2024');
    expect(out).toContain('3.14159265');
    expect(out).not.toContain('10.20.30.40');
    expect(out).not.toContain('4242 4242 4242 4242');
    expect(out).toMatch(/card \d{4} \d{4} \d{4} \d{4}\.$/);
  });

  it('finds addresses with non-ASCII local parts and phone numbers in other scripts\' text', () => {
    const out = tx.scrub('연락처 010-1234-5678, 이메일 김@example.com, josé@correo.es');
    expect(out).not.toMatch(/1234|example\.com|correo/);
    expect(out).toContain(tx.email('김@example.com'));
    expect(out.startsWith('연락처 ')).toBe(true);
  });

  it('leaves text without PII unchanged, including non-ASCII and emoji', () => {
    const text = 'José Núñez wrote a story 🦊 about 3 foxes.';
    expect(tx.scrub(text)).toBe(text);
  });
});

describe('token and passwordHash', () => {
  it('turns tokens into staging-token-<hmac prefix>', () => {
    const t = tx.token('ya29.a0AfH6SMBx-very-secret');
    expect(t).toMatch(/^staging-token-[0-9a-f]{20}$/);
    expect(tx.token('ya29.a0AfH6SMBx-very-secret')).toBe(t);
    expect(tx.token('another')).not.toBe(t);
  });

  it('gives every password the one staging hash, which is a real bcrypt hash of the staging password', () => {
    expect(tx.passwordHash('$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234')).toBe(STAGING_PASSWORD_HASH);
    expect(tx.passwordHash(null)).toBeNull();
    expect(STAGING_PASSWORD_HASH).toMatch(/^\$2b\$10\$[./A-Za-z0-9]{53}$/);
    expect(STAGING_PASSWORD).toBe('staging-password-123');
  });

  it.skipIf(missingPrerequisite('python3 with bcrypt', hasPythonBcrypt(), 'apt-get install -y python3-bcrypt'))('the hash verifies against the staging password (python3-bcrypt)', () => {
    const check = (pw: string) =>
      execFileSync('/usr/bin/python3', ['-c', 'import bcrypt,sys; print(bcrypt.checkpw(sys.argv[1].encode(), sys.argv[2].encode()))', pw, STAGING_PASSWORD_HASH], { encoding: 'utf8' }).trim();
    expect(check(STAGING_PASSWORD)).toBe('True');
    expect(check('staging-password-124')).toBe('False');
  });
});

function hasPythonBcrypt(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import bcrypt'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('dateOfBirth', () => {
  const ageOn = (dob: string, ref = REF) => {
    const [y, m, d] = dob.slice(0, 10).split('-').map(Number) as [number, number, number];
    const [ry, rm, rd] = ref.split('-').map(Number) as [number, number, number];
    return ry - y - (rm < m || (rm === m && rd < d) ? 1 : 0);
  };
  const bracket = (age: number) => (age < 0 ? -1 : age < 13 ? 0 : age < 18 ? 1 : 2);
  const days = (a: string, b: string) => Math.round((Date.parse(a.slice(0, 10)) - Date.parse(b.slice(0, 10))) / 86_400_000);

  it('shifts by 1 to 180 days, deterministically, and keeps a time part', () => {
    const out = tx.dateOfBirth('1990-03-04 00:00:00');
    expect(out).toMatch(/^\d{4}-\d{2}-\d{2} 00:00:00$/);
    expect(tx.dateOfBirth('1990-03-04 00:00:00')).toBe(out);
    const shift = Math.abs(days(out, '1990-03-04'));
    expect(shift).toBeGreaterThanOrEqual(1);
    expect(shift).toBeLessThanOrEqual(180);
  });

  // Birthdays on both sides of the 13th and 18th birthday at the reference date, under many keys.
  const boundaryCases = [
    ['2011-06-15', 13], // turns 13 on the reference date
    ['2011-06-16', 12], // turns 13 the day after
    ['2011-06-14', 13],
    ['2006-06-15', 18], // turns 18 on the reference date
    ['2006-06-16', 17],
    ['2006-06-14', 18],
    ['2024-06-15', 0], // born on the reference date
  ] as const;
  it.each(boundaryCases)('keeps %s (age %i at the reference date) in its age bracket under 50 keys', (dob, age) => {
    expect(ageOn(dob)).toBe(age);
    for (let k = 0; k < 50; k++) {
      const t = createTransformers(`boundary-key-${k}-0123456789abcdef`, { referenceDate: REF });
      const out = t.dateOfBirth(dob);
      expect(out).not.toBe(dob);
      expect(bracket(ageOn(out)), `${dob} → ${out}`).toBe(bracket(age));
      expect(Math.abs(days(out, dob))).toBeLessThanOrEqual(180);
    }
  });

  it('handles a leap-day birthday and refuses a date it cannot read, without echoing it', () => {
    expect(tx.dateOfBirth('2012-02-29')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(() => tx.dateOfBirth('04/03/1990')).toThrow(/not in ISO form/);
    try {
      tx.dateOfBirth('04/03/1990');
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('1990');
    }
  });
});

describe('address (JSON)', () => {
  const doc = {
    name: 'Maria Garcia',
    line1: '221B Baker Street',
    line2: 'Flat 3',
    city: 'London',
    postalCode: 'NW1 6XE',
    state: 'Greater London',
    country: 'GB',
    phone: '+44 20 7946 0018',
    email: 'maria@example.com',
    nested: { street: '1 Main St', zip: 90210, note: 'ring maria@example.com' },
    type: 'home',
  };

  it('replaces address parts recursively and keeps country, state and other keys', () => {
    const out = tx.address(structuredClone(doc)) as Record<string, unknown>;
    expect(out.country).toBe('GB');
    expect(out.state).toBe('Greater London');
    expect(out.type).toBe('home');
    for (const k of ['name', 'line1', 'line2', 'city', 'postalCode', 'phone']) expect(out[k], k).not.toBe(doc[k as keyof typeof doc]);
    expect(out.email).toBe(tx.email('maria@example.com'));
    const nested = out.nested as Record<string, unknown>;
    expect(nested.street).not.toBe('1 Main St');
    expect(typeof nested.zip).toBe('number');
    expect(nested.zip).not.toBe(90210);
    expect(nested.note).toBe(`ring ${tx.email('maria@example.com')}`);
    expect(out.city).not.toBe('London');
    expect(JSON.stringify(out)).not.toMatch(/Baker|Main St|NW1|7946|90210|example\.com/);
  });

  it('replaces country and state too when the config keeps nothing', () => {
    const out = tx.address(structuredClone(doc), { keep: [] }) as Record<string, unknown>;
    expect(out.country).not.toBe('GB');
    expect(out.state).not.toBe('Greater London');
  });
});

describe('uniqueness registry', () => {
  it('resolves a collision in a unique column with a deterministic suffix, and other columns reuse it', () => {
    const registry = new UniquenessRegistry();
    const t = createTransformers(KEY, { registry });
    const first = registry.claim('users.email', 'email', 'a@x.org', 'user-1@staging.local', (n) => `user-1-${n}@staging.local`);
    const second = registry.claim('users.email', 'email', 'b@x.org', 'user-1@staging.local', (n) => `user-1-${n}@staging.local`);
    const third = registry.claim('users.email', 'email', 'c@x.org', 'user-1@staging.local', (n) => `user-1-${n}@staging.local`);
    expect([first, second, third]).toEqual(['user-1@staging.local', 'user-1-2@staging.local', 'user-1-3@staging.local']);
    expect(registry.collisions).toBe(2);
    // The suffixed value follows the production value into any other column and into free text.
    expect(t.email('b@x.org')).toBe('user-1-2@staging.local');
    expect(t.scrub('mail b@x.org')).toBe('mail user-1-2@staging.local');
    expect(t.email('a@x.org')).not.toBe('user-1-2@staging.local');
  });
});
