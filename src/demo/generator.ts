// Deterministic synthetic 1001 Stories data for `rehearse demo`: PostgreSQL COPY text rows for every
// table of sql/demo/schema.sql, one stream per table, from (seed, user count) alone.
//
// Every value is a pure function of (seed, table, ordinal): a row's parent id, role or price is
// recomputed where it is needed instead of remembered, so each table streams in constant memory,
// tables can be produced separately and in any order, and two runs give the same bytes.
import { Readable } from 'node:stream';
import { arrayLiteral } from '../db/sql-text.js';

/** Bump when the generated data changes, so an existing demo database is known to be stale. */
export const GENERATOR_VERSION = 1;

/** "Now" for the data set: every timestamp lies before it, so a run never depends on the clock. */
export const DEMO_EPOCH_MS = Date.UTC(2025, 0, 1);
export const DEFAULT_USERS = 2000;
export const DEFAULT_SEED = 1001;
/** Slots 0–9 already hold every role, a soft-deleted and an inactive learner (see FIXED_USERS). */
export const MIN_USERS = 10;
export const MAX_USERS = 10_000_000;

const DAY = 86_400_000;
const YEAR = 365 * DAY;
/** Chunks of about this many characters go to the COPY stream: one write per row would dominate. */
const CHUNK_CHARS = 64 * 1024;

export const USER_ROLES = ['LEARNER', 'TEACHER', 'INSTITUTION', 'VOLUNTEER', 'ADMIN', 'CUSTOMER'] as const;
export type UserRole = (typeof USER_ROLES)[number];
const [LEARNER, TEACHER, INSTITUTION, VOLUNTEER, ADMIN, CUSTOMER] = [0, 1, 2, 3, 4, 5] as const;
/** ~55 % learners, 15 % teachers, 5 % institutions, 8 % volunteers, 2 % admins, 15 % customers. */
const ROLE_CUMULATIVE = [0.55, 0.7, 0.75, 0.83, 0.85, 1];

/** Tables in an order that satisfies every foreign key. */
export const DEMO_TABLES = [
  'schools',
  'users',
  'profiles',
  'accounts',
  'sessions',
  'stories',
  'reading_progress',
  'orders',
  'order_items',
  'donation_campaigns',
  'donations',
  'classes',
  'class_enrollments',
  'subscriptions',
  'notifications',
  'activity_logs',
  'volunteer_profiles',
  'volunteer_assignments',
] as const;
export type DemoTable = (typeof DEMO_TABLES)[number];

/** The columns each table's rows carry, in row order (COPY's column list). */
export const DEMO_COLUMNS: Record<DemoTable, readonly string[]> = {
  schools: ['id', 'name', 'contactEmail', 'phone', 'address', 'city', 'country', 'createdAt', 'updatedAt'],
  users: ['id', 'email', 'emailVerified', 'name', 'image', 'password', 'role', 'tokenVersion', 'schoolId', 'createdAt', 'updatedAt', 'deletedAt'],
  profiles: ['id', 'userId', 'phone', 'dateOfBirth', 'parentEmail', 'parentName', 'bio', 'language', 'createdAt', 'updatedAt'],
  accounts: ['id', 'userId', 'type', 'provider', 'providerAccountId', 'refresh_token', 'access_token', 'expires_at', 'token_type', 'scope', 'id_token'],
  sessions: ['id', 'sessionToken', 'userId', 'expires'],
  stories: ['id', 'authorId', 'title', 'content', 'summary', 'authorName', 'authorAge', 'authorLocation', 'tags', 'genres', 'price', 'isPublished', 'language', 'createdAt', 'updatedAt'],
  reading_progress: ['id', 'userId', 'storyId', 'percentComplete', 'isCompleted', 'lastReadAt'],
  orders: ['id', 'userId', 'email', 'phone', 'shippingAddress', 'billingAddress', 'stripePaymentId', 'subtotal', 'tax', 'total', 'status', 'createdAt', 'updatedAt'],
  order_items: ['id', 'orderId', 'storyId', 'quantity', 'price'],
  donation_campaigns: ['id', 'title', 'description', 'goal', 'createdById', 'startsAt', 'endsAt', 'createdAt', 'updatedAt'],
  donations: ['id', 'donorId', 'donorEmail', 'donorName', 'message', 'anonymous', 'amount', 'currency', 'campaignId', 'stripePaymentId', 'createdAt'],
  classes: ['id', 'teacherId', 'schoolId', 'name', 'code', 'createdAt', 'updatedAt'],
  class_enrollments: ['id', 'classId', 'studentId', 'enrolledAt'],
  subscriptions: ['id', 'userId', 'plan', 'status', 'stripeCustomerId', 'currentPeriodEnd', 'createdAt', 'updatedAt'],
  notifications: ['id', 'userId', 'type', 'message', 'read', 'createdAt'],
  activity_logs: ['id', 'userId', 'action', 'ipAddress', 'userAgent', 'metadata', 'createdAt'],
  volunteer_profiles: ['id', 'userId', 'skills', 'languages', 'availableHours', 'createdAt', 'updatedAt'],
  volunteer_assignments: ['id', 'volunteerId', 'storyId', 'task', 'status', 'createdAt', 'updatedAt'],
};

/** Rows per user, measured on 100,000 users; only for progress bars (the real counts come from the streams). */
const ROWS_PER_USER: Record<DemoTable, number> = {
  schools: 0.004,
  users: 1,
  profiles: 0.874,
  accounts: 0.383,
  sessions: 0.829,
  stories: 0.12,
  reading_progress: 2.638,
  orders: 0.496,
  order_items: 0.792,
  donation_campaigns: 0.00125,
  donations: 0.132,
  classes: 0.192,
  class_enrollments: 0.392,
  subscriptions: 0.189,
  notifications: 2.0,
  activity_logs: 3.605,
  volunteer_profiles: 0.09,
  volunteer_assignments: 0.133,
};

export interface DemoDataOptions {
  users: number;
  seed: number;
}

export function copyStatement(table: DemoTable): string {
  return `COPY "${table}" (${DEMO_COLUMNS[table].map((c) => `"${c}"`).join(', ')}) FROM STDIN`;
}

export function estimateRows(users: number): Record<DemoTable, number> {
  return Object.fromEntries(DEMO_TABLES.map((t) => [t, Math.round(users * ROWS_PER_USER[t])])) as Record<DemoTable, number>;
}

export function checkDemoOptions(opts: DemoDataOptions): void {
  if (!Number.isInteger(opts.users) || opts.users < MIN_USERS || opts.users > MAX_USERS) {
    throw new RangeError(`users must be an integer from ${MIN_USERS} to ${MAX_USERS}, not ${opts.users}`);
  }
  if (!Number.isInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer from 0 to 4294967295, not ${opts.seed}`);
  }
}

// ---------------------------------------------------------------------------------------------
// COPY text format (https://www.postgresql.org/docs/15/sql-copy.html#id-1.9.3.55.9.2)

export const COPY_NULL = '\\N';
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const escapeChar = (c: string) => ESCAPED[c]!;

/** A text value as a COPY field: backslash, tab, newline and carriage return escaped; null is \N. */
export function copyText(value: string | null): string {
  if (value === null) return COPY_NULL;
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPES, escapeChar) : value;
}

/** A text[] value as a COPY field. */
export function copyArray(items: readonly string[] | null): string {
  return items === null ? COPY_NULL : copyText(arrayLiteral(items));
}

/**
 * A value built only from the pools checked by assertSafePools (names, e-mails, phones, cities, titles,
 * IPs, user agents): nothing to escape, so the per-field scan is skipped.
 */
const safe = (value: string | null): string => (value === null ? COPY_NULL : value);

/** A JSON string literal; addresses and metadata are assembled from these with template strings. */
const js = (s: string) => JSON.stringify(s);

const PAD2 = Array.from({ length: 100 }, (_, k) => String(k).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, k) => String(k).padStart(3, '0'));
const HOUR = 3_600_000;
/** 'YYYY-MM-DDTHH:' per hour since 2000, filled on first use (a few MB at most). */
const HOUR_BASE = Date.UTC(2000, 0, 1) / HOUR;
const hourPrefixes: string[] = [];

/** timestamp(3) text, e.g. 2024-05-06T07:08:09.010. Date#toISOString per value was a third of the run time. */
function ts(ms: number): string {
  const hour = Math.floor(ms / HOUR);
  let prefix = hourPrefixes[hour - HOUR_BASE];
  if (prefix === undefined) {
    prefix = new Date(hour * HOUR).toISOString().slice(0, 14);
    if (hour >= HOUR_BASE) hourPrefixes[hour - HOUR_BASE] = prefix;
  }
  let rest = ms - hour * HOUR;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return prefix + PAD2[m] + ':' + PAD2[s] + '.' + PAD3[rest - s * 1000];
}
const money = (cents: number) => {
  const c = Math.round(cents);
  const r = c % 100;
  return `${(c - r) / 100}.${r < 10 ? '0' : ''}${r}`;
};
const bool = (b: boolean) => (b ? 't' : 'f');

// ---------------------------------------------------------------------------------------------
// Randomness: a hash of (seed, stream tag, ordinal) seeds a mulberry32 generator per row.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hash3(seed: number, tag: number, n: number): number {
  return fmix32(fmix32(fmix32(seed ^ 0x9e3779b9) ^ Math.imul(tag, 0x27d4eb2f)) + (n | 0));
}

export class Rng {
  private s = 0;
  seed(x: number): this {
    this.s = x | 0;
    return this;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** Stream tags: each kind of value draws from its own sequence, so adding a column elsewhere changes nothing here. */
const T = {
  userCore: 1, userPii: 2, userRow: 3, school: 4, schoolTime: 5, profile: 6, accounts: 7, sessions: 8, story: 9,
  storyTime: 10, storyPrice: 11, reading: 12, orderSlots: 13, order: 14, orderRest: 15, campaign: 16, campaignTime: 17,
  donations: 18, classCount: 19, classTime: 20, classRow: 21, enroll: 22, subs: 23, notif: 24, logs: 25, vpPick: 26,
  vpTime: 27, vpRow: 28, vassign: 29, id: 30,
} as const;

const B36 = '0123456789abcdefghijklmnopqrstuvwxyz';

const B36_PAIRS = Array.from({ length: 36 * 36 }, (_, k) => B36[Math.floor(k / 36)]! + B36[k % 36]!);

/** Fixed-width base 36 (the low `width` digits, width even); Number#toString(36) is slow on large numbers. */
function base36(x: number, width: number): string {
  let s = '';
  for (let k = 0; k < width; k += 2) {
    const q = Math.floor(x / 1296);
    s = B36_PAIRS[x - q * 1296] + s;
    x = q;
  }
  return s;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BCRYPT64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** n characters of a 64-letter alphabet, five per 32-bit draw. */
function chars64(r: Rng, alphabet: string, n: number): string {
  let s = '';
  let x = 0;
  for (let k = 0; k < n; k++) {
    if (k % 5 === 0) x = r.u32();
    s += alphabet[x & 63];
    x >>>= 6;
  }
  return s;
}

function charsOf(r: Rng, alphabet: string, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += alphabet[Math.floor(r.next() * alphabet.length)];
  return s;
}

function hex(r: Rng, n: number): string {
  let s = '';
  while (s.length < n) s += r.u32().toString(16).padStart(8, '0');
  return s.slice(0, n);
}

/** Fills a pattern: X a digit, # a house number 1–999, A a capital letter; other characters stay. */
function fill(r: Rng, pattern: string): string {
  let s = '';
  for (let k = 0; k < pattern.length; k++) {
    const c = pattern[k]!;
    s += c === 'X' ? String(r.int(10)) : c === '#' ? String(1 + r.int(999)) : c === 'A' ? String.fromCharCode(65 + r.int(26)) : c;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// People, places and words. Display names keep their script; `slug` is what ends up in e-mails.

interface Person {
  display: string;
  slug: string;
}
const person = ([display, ascii]: readonly [string, string?]): Person => ({ display, slug: (ascii ?? display).replace(/[^A-Za-z]/g, '') });

interface Culture {
  weight: number;
  first: Person[];
  last: Person[];
  /** Family name first (and the separator between the two). */
  familyFirst: boolean;
  sep: string;
  country: string;
  countryName: string;
  cities: string[];
  streets: string[];
  postal: string;
  phones: string[];
  lang: string;
  schools: string[];
}

const culture = (c: Omit<Culture, 'first' | 'last'> & { first: Array<readonly [string, string?]>; last: Array<readonly [string, string?]> }): Culture => ({
  ...c,
  first: c.first.map(person),
  last: c.last.map(person),
});

const CULTURES: Culture[] = [
  culture({
    weight: 0.25, familyFirst: false, sep: ' ', country: 'US', countryName: 'USA', lang: 'en', postal: 'XXXXX',
    first: [['Emma'], ['Liam'], ['Olivia'], ['Noah'], ['Ava'], ['Ethan'], ['Zoë', 'Zoe'], ['Chloë', 'Chloe'], ['Seán', 'Sean'], ['Mary-Kate'], ['Renée', 'Renee'], ['Aoife'], ['Jayden'], ['Harper']],
    last: [['Smith'], ["O'Brien"], ['Johnson'], ['Williams'], ['Brown'], ['Taylor-Reed'], ["O'Connor"], ['McDonald'], ['Davies'], ['Nguyen'], ['García-Miller', 'GarciaMiller']],
    cities: ['Portland, OR', 'Austin, TX', 'Boston, MA', 'Chicago, IL', 'Oakland, CA'],
    streets: ['# Evergreen Terrace', '# Maple Ave, Apt 4 "B"', '# Oak St.', '# Sunset Blvd', 'PO Box #', '# Elm Street\nc/o Front Desk'],
    phones: ['+1 (XXX) 555-01XX', 'XXX-555-01XX', '(XXX) 555-01XX', '+1XXX55501XX', 'XXX.555.01XX', '555-01XX ext. XX'],
    schools: ['Lincoln Elementary School', 'Riverside Middle School', "St. Mary's Academy", 'Cedar Grove Charter School'],
  }),
  culture({
    weight: 0.14, familyFirst: false, sep: ' ', country: 'MX', countryName: 'México', lang: 'es', postal: 'XXXXX',
    first: [['José', 'Jose'], ['María', 'Maria'], ['Lucía', 'Lucia'], ['Sofía', 'Sofia'], ['Mateo'], ['Valentina'], ['Andrés', 'Andres'], ['Camila'], ['Martín', 'Martin'], ['Inés', 'Ines'], ['Begoña', 'Begona']],
    last: [['Núñez', 'Nunez'], ['López', 'Lopez'], ['García', 'Garcia'], ['Peña', 'Pena'], ['Hernández', 'Hernandez'], ['Muñoz', 'Munoz'], ['Rodríguez', 'Rodriguez'], ['Ibáñez', 'Ibanez'], ['de la Cruz', 'delaCruz']],
    cities: ['Ciudad de México', 'Guadalajara', 'Oaxaca de Juárez', 'Mérida', 'Puebla'],
    streets: ['Calle Ñandú #', 'Av. Insurgentes Sur #, Piso 3', 'Calle 5 de Mayo # Int. 2', 'Privada Los Álamos #'],
    phones: ['+52 55 XXXX XXXX', '55-XXXX-XXXX', '+52 (33) XXXX-XXXX', '044 55 XXXX XXXX'],
    schools: ['Escuela Primaria Benito Juárez', 'Colegio Sor Juana Inés de la Cruz', 'Escuela Rural Núm. 12'],
  }),
  culture({
    weight: 0.05, familyFirst: false, sep: ' ', country: 'PL', countryName: 'Polska', lang: 'pl', postal: 'XX-XXX',
    first: [['Łukasz', 'Lukasz'], ['Małgorzata', 'Malgorzata'], ['Zofia'], ['Wojciech'], ['Agnieszka'], ['Paweł', 'Pawel'], ['Jędrzej', 'Jedrzej']],
    last: [['Wiśniewski', 'Wisniewski'], ['Kowalczyk'], ['Wójcik', 'Wojcik'], ['Lewandowska'], ['Dąbrowski', 'Dabrowski'], ['Zieliński', 'Zielinski'], ['Szczęsny', 'Szczesny']],
    cities: ['Kraków', 'Gdańsk', 'Łódź', 'Wrocław'],
    streets: ['ul. Długa #/XX', 'ul. Świętokrzyska #', 'al. Jerozolimskie # m. X'],
    phones: ['+48 XXX XXX XXX', 'XXX-XXX-XXX', '+48XXXXXXXXX'],
    schools: ['Szkoła Podstawowa nr X im. Marii Skłodowskiej-Curie', 'Zespół Szkół w Łodzi'],
  }),
  culture({
    weight: 0.06, familyFirst: false, sep: ' ', country: 'DE', countryName: 'Deutschland', lang: 'de', postal: 'XXXXX',
    first: [['Jürgen', 'Jurgen'], ['Zoë', 'Zoe'], ['Héloïse', 'Heloise'], ['François', 'Francois'], ['Anaïs', 'Anais'], ['Björn', 'Bjorn'], ['Søren', 'Soren'], ['Maëlle', 'Maelle']],
    last: [['Müller', 'Muller'], ['Schröder', 'Schroder'], ['Lefèvre', 'Lefevre'], ['Dubois'], ['Großmann', 'Grossmann'], ['Ægisdóttir', 'Aegisdottir'], ['Weiß', 'Weiss']],
    cities: ['Berlin', 'München', 'Köln', 'Straßburg'],
    streets: ['Hauptstraße #', 'Königsallee # (Hinterhaus)', 'Rue de la Paix #', 'Am Großen Wannsee #'],
    phones: ['+49 30 XXXXXXX', '0171 XXXXXXX', '+49 (0)89 XXXX-XXX', '+33 6 XX XX XX XX'],
    schools: ['Grundschule am Park', 'Gesamtschule Köln-Süd', 'École élémentaire Jules Ferry'],
  }),
  culture({
    weight: 0.07, familyFirst: true, sep: ' ', country: 'JP', countryName: '日本', lang: 'ja', postal: 'XXX-XXXX',
    first: [['花子', 'Hanako'], ['一郎', 'Ichiro'], ['陽翔', 'Haruto'], ['結衣', 'Yui'], ['蓮', 'Ren'], ['さくら', 'Sakura'], ['翔太', 'Shota']],
    last: [['佐藤', 'Sato'], ['鈴木', 'Suzuki'], ['高橋', 'Takahashi'], ['田中', 'Tanaka'], ['渡辺', 'Watanabe'], ['伊藤', 'Ito']],
    cities: ['東京都千代田区', '大阪市北区', '札幌市中央区', '福岡市博多区'],
    streets: ['丸の内X-X-X', '梅田X丁目X番X号', '北X条西X丁目 ハイツ#号室'],
    phones: ['+81 90-XXXX-XXXX', '03-XXXX-XXXX', '080 XXXX XXXX', '+81-6-XXXX-XXXX'],
    schools: ['札幌市立第三小学校', '東京都立青山中学校', 'さくら学園'],
  }),
  culture({
    weight: 0.07, familyFirst: true, sep: '', country: 'KR', countryName: '대한민국', lang: 'ko', postal: 'XXXXX',
    first: [['민준', 'Minjun'], ['서연', 'Seoyeon'], ['지호', 'Jiho'], ['하은', 'Haeun'], ['도윤', 'Doyun'], ['수아', 'Sua']],
    last: [['김', 'Kim'], ['이', 'Lee'], ['박', 'Park'], ['최', 'Choi'], ['정', 'Jung'], ['강', 'Kang']],
    cities: ['서울특별시 강남구', '부산광역시 해운대구', '인천광역시 연수구'],
    streets: ['테헤란로 #길 XX', '해운대로 # (우동)', '컨벤시아대로 #, 10X동 XX0X호'],
    phones: ['+82 10-XXXX-XXXX', '010-XXXX-XXXX', '02-XXX-XXXX', '+82 (0)10 XXXX XXXX'],
    schools: ['서울대도초등학교', '해운대중학교', '한빛국제학교'],
  }),
  culture({
    weight: 0.12, familyFirst: false, sep: ' ', country: 'NP', countryName: 'Nepal', lang: 'ne', postal: 'XXXXX',
    first: [['Aarav'], ['Sita'], ['Bishnu'], ['Anjali'], ['Prakash'], ['Sarita'], ['Binod'], ['सुनिता', 'Sunita'], ['Pemba']],
    last: [['Shrestha'], ['Gurung'], ['Tamang'], ['Thapa'], ['Adhikari'], ['श्रेष्ठ', 'Shrestha'], ['Sherpa']],
    cities: ['Kathmandu', 'Pokhara', 'Lalitpur', 'Bharatpur'],
    streets: ['Lakeside Road #, Ward 6', 'Thamel Marg, House #', 'Pulchowk-#, near the temple'],
    phones: ['+977 98XXXXXXXX', '98X-XXXXXXX', '01-XXXXXXX', '+977-1-XXXXXXX'],
    schools: ['Shree Saraswati Secondary School', 'Pokhara Community School', 'Himalayan Learning Centre'],
  }),
  culture({
    weight: 0.12, familyFirst: false, sep: ' ', country: 'UG', countryName: 'Uganda', lang: 'en', postal: '',
    first: [['Amani'], ['Zawadi'], ['Baraka'], ['Nia'], ['Kato'], ['Achieng'], ['Wanjiku'], ['Ssemakula']],
    last: [['Okello'], ['Nakato'], ['Mwangi'], ['Otieno'], ['Wanjiru'], ['Mugisha'], ['Namukasa']],
    cities: ['Kampala', 'Gulu', 'Mbarara', 'Jinja'],
    streets: ['Plot #, Kampala Road', 'P.O. Box #, Gulu', 'Ntinda, Kigoowa Road #'],
    phones: ['+256 7XX XXXXXX', '07XX XXX XXX', '+256-41-XXXXXXX', '256 77X XXX XXX'],
    schools: ['Gulu Primary School', 'St. Kizito Secondary School', 'Kampala Junior Academy'],
  }),
  culture({
    weight: 0.04, familyFirst: false, sep: ' ', country: 'JO', countryName: 'الأردن', lang: 'ar', postal: 'XXXXX',
    first: [['محمد', 'Mohammed'], ['فاطمة', 'Fatima'], ['يوسف', 'Youssef'], ['ليلى', 'Layla']],
    last: [['العلي', 'AlAli'], ['حداد', 'Haddad'], ['الخطيب', 'AlKhatib']],
    cities: ['عمّان', 'إربد', 'Amman'],
    streets: ['شارع الملك حسين #', 'Rainbow St. #, Jabal Amman'],
    phones: ['+962 7 XXXX XXXX', '07XXXXXXXX', '+962-6-XXX-XXXX'],
    schools: ['مدرسة الأمل الأساسية', 'Amman Baccalaureate School'],
  }),
  culture({
    weight: 0.04, familyFirst: true, sep: ' ', country: 'VN', countryName: 'Việt Nam', lang: 'vi', postal: 'XXXXXX',
    first: [['Thị Hương', 'ThiHuong'], ['Văn Minh', 'VanMinh'], ['Ngọc Anh', 'NgocAnh'], ['Đức', 'Duc']],
    last: [['Nguyễn', 'Nguyen'], ['Trần', 'Tran'], ['Lê', 'Le'], ['Phạm', 'Pham']],
    cities: ['Hà Nội', 'Thành phố Hồ Chí Minh', 'Đà Nẵng'],
    streets: ['# Phố Huế, Quận Hai Bà Trưng', 'Số # Đường Lê Lợi, Phường Bến Nghé'],
    phones: ['+84 9X XXX XX XX', '09XX XXX XXX', '+84-24-XXXX-XXXX'],
    schools: ['Trường Tiểu học Lê Văn Tám', 'Trường THCS Nguyễn Du'],
  }),
  culture({
    weight: 0.04, familyFirst: true, sep: '', country: 'CN', countryName: '中国', lang: 'zh', postal: 'XXXXXX',
    first: [['伟', 'Wei'], ['娜', 'Na'], ['芳', 'Fang'], ['浩然', 'Haoran']],
    last: [['王', 'Wang'], ['李', 'Li'], ['张', 'Zhang'], ['刘', 'Liu']],
    cities: ['北京市朝阳区', '上海市浦东新区', '成都市武侯区'],
    streets: ['建国路#号', '世纪大道#号 X栋X0X室'],
    phones: ['+86 13X XXXX XXXX', '138-XXXX-XXXX', '+86 (10) XXXX XXXX'],
    schools: ['北京市朝阳实验小学', '成都七中'],
  }),
];
/** The pools whose values go out through safe(): none may hold a character COPY would need escaped. */
function assertSafePools(): void {
  const pools: string[][] = [DOMAINS, PLUS_TAGS, TITLES, FIXED_USERS.flatMap((u) => [u.name ?? '', u.email ?? ''])];
  for (const c of CULTURES) pools.push(c.first.map((p) => p.display), c.last.map((p) => p.display), c.cities, c.phones, c.schools, [c.countryName]);
  for (const pool of pools) for (const value of pool) if (NEEDS_ESCAPE.test(value)) throw new Error(`generator pool value needs COPY escaping: ${JSON.stringify(value)}`);
}

const CULTURE_CUMULATIVE = (() => {
  let sum = 0;
  return CULTURES.map((c) => (sum += c.weight));
})();

function pickCulture(r: Rng): Culture {
  const x = r.next() * CULTURE_CUMULATIVE[CULTURE_CUMULATIVE.length - 1]!;
  for (let k = 0; k < CULTURES.length; k++) if (x < CULTURE_CUMULATIVE[k]!) return CULTURES[k]!;
  return CULTURES[0]!;
}

const fullName = (c: Culture, first: Person, last: Person) => (c.familyFirst ? `${last.display}${c.sep}${first.display}` : `${first.display} ${last.display}`);

const DOMAINS = ['example.org', 'example.com', 'example.net', 'mail.example', 'correo.example', 'example.jp', 'naver.example', 'post.example.ug', 'school.example.edu', 'icloud.example'];
const PLUS_TAGS = ['stories', '1001', 'kids', 'shop', 'school', 'news'];
const cap = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** An e-mail for a person; `n` (the owner's index) keeps it unique whatever the style. */
function emailFor(r: Rng, c: Culture, first: Person, last: Person, n: number): string {
  const f = first.slug.toLowerCase() || 'user';
  const l = last.slug.toLowerCase() || 'x';
  const domain = r.pick(DOMAINS);
  const x = r.next();
  if (x < 0.38) return `${f}.${l}${n}@${domain}`;
  if (x < 0.52) return `${cap(first.slug)}.${cap(last.slug)}+${r.pick(PLUS_TAGS)}${n}@${cap(domain)}`;
  if (x < 0.66) return `${f[0]}${l}_${n}@${domain}`;
  if (x < 0.76) return `${cap(first.slug)}${cap(last.slug)}${n}@${domain.toUpperCase()}`;
  if (x < 0.84) return `${l}.${f}.${n}@${domain}`;
  if (x < 0.92) return `${f}${n}+${r.pick(PLUS_TAGS)}@${domain}`;
  // Internationalised local parts (RFC 6531) exist in real sign-up tables too.
  return `${fullName(c, first, last).toLowerCase().replace(/ /g, '.')}${n}@${domain}`;
}

/** Someone who is not (necessarily) a user: a guest buyer, a parent, a name inside a message. */
function randomPerson(r: Rng): { name: string; email: string; culture: Culture } {
  const c = pickCulture(r);
  const first = r.pick(c.first);
  const last = r.pick(c.last);
  return { name: fullName(c, first, last), email: emailFor(r, c, first, last, 100 + r.int(99_900)), culture: c };
}

function addressJson(r: Rng, c: Culture, name: string, phone: string | null): string {
  const line2 = r.chance(0.25) ? js(r.pick(ADDRESS_LINE2)) : 'null';
  const postal = c.postal ? js(fill(r, c.postal)) : 'null';
  return `{"name":${js(name)},"line1":${js(fill(r, r.pick(c.streets)))},"line2":${line2},"city":${js(r.pick(c.cities))},"postalCode":${postal},"country":${js(c.country)},"phone":${phone === null ? 'null' : js(phone)}}`;
}
const ADDRESS_LINE2 = ['Apt 4 "B"', 'c/o Parent', 'Backslash Alley \\ Unit 7', 'Building 2\nFloor 3', 'Suite 100', '2階', 'Room 3 – East wing'];

const ipv4 = (r: Rng) => `${1 + r.int(223)}.${r.int(256)}.${r.int(256)}.${1 + r.int(254)}`;
const hex4 = (r: Rng) => (r.u32() & 0xffff).toString(16);
const ipv6 = (r: Rng) =>
  r.chance(0.5)
    ? `2001:db8:${hex4(r)}:${hex4(r)}::${hex4(r)}`
    : `2a02:${hex4(r)}:${hex4(r)}:${hex4(r)}:${hex4(r)}:${hex4(r)}:${hex4(r)}:${hex4(r)}`;

function userAgent(r: Rng): string {
  switch (r.int(7)) {
    case 0: return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${118 + r.int(14)}.0.${r.int(7000)}.${r.int(200)} Safari/537.36`;
    case 1: return `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${r.int(6)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${r.int(6)} Mobile/15E148 Safari/604.1`;
    case 2: return `Mozilla/5.0 (Linux; Android ${11 + r.int(4)}; SM-A${100 + r.int(800)}F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${118 + r.int(14)}.0.0.0 Mobile Safari/537.36`;
    case 3: return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${115 + r.int(12)}.0) Gecko/20100101 Firefox/${115 + r.int(12)}.0`;
    case 4: return `Mozilla/5.0 (X11; CrOS x86_64 ${15000 + r.int(600)}.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${118 + r.int(14)}.0.0.0 Safari/537.36`;
    case 5: return `1001Stories/${2 + r.int(2)}.${r.int(10)}.${r.int(20)} (iPad; iOS 17.${r.int(5)}; Scale/2.00)`;
    default: return `okhttp/4.${r.int(13)}.0`;
  }
}

const phoneOf = (r: Rng, c: Culture) => fill(r, r.pick(c.phones));

const BIOS_PLAIN = [
  'Loves dinosaurs 🦕, space and drawing comics.',
  'I read every night before bed. My favourite book is about a brave little goat.',
  'Grade 4 reader. Wants to be an astronaut!',
  'Mother of two, bookworm, occasional illustrator.',
  'Reading teacher for 12 years; storytelling clubs on Fridays.',
  '日本語と英語で物語を読むのが好きです。',
  '책 읽기를 좋아하는 초등학생입니다.',
  'Me encantan los cuentos de animales y las leyendas mexicanas.',
  'मलाई कथा पढ्न मन पर्छ।',
  'أحب القراءة والرسم',
];
/** Values that break naive COPY writers and naive anonymizers; a few per cent of bios are one of these. */
export const TRICKY_TEXTS = [
  'Literal \\N is not NULL',
  'C:\\Users\\kid\\My Stories',
  'Line one\nLine two\r\nLine three',
  'Tab\tseparated\tbio',
  'Ends with a backslash \\',
  '\\.',
  '',
  'NULL',
  '"Quoted" and \'single\' and `back`',
  'Emoji 🦄📚✨ and a family 👩‍👧‍👦',
  'Zero\u200bwidth space and non\u00a0breaking',
  'RTL مرحبا بالعالم mixed with LTR',
  '{"looks":"like json"}',
  '{not,an,array}',
];

function bio(r: Rng): string {
  const x = r.next();
  if (x < 0.06) return r.pick(TRICKY_TEXTS);
  if (x < 0.22) {
    const p = randomPerson(r);
    return `Questions about my account? Contact my parent ${p.name} at ${p.email} or ${phoneOf(r, p.culture)}.`;
  }
  return r.pick(BIOS_PLAIN);
}

const TITLES = [
  'The Goat Who Climbed the Moon', 'Amani and the Rain Drum', 'La tortuga que quería volar', 'My Grandmother\'s Kitchen', 'The "Invisible" Bicycle',
  '星のふね', '달을 삼킨 고양이', 'The Little Yak of Pokhara', 'A River Called Home', 'Zoë & the Robot', 'Łódka na jeziorze', 'Why the Crow is Black',
  'The Boy Who Counted Stars', 'Lucía\'s Lantern', 'Water for Everyone', 'The Secret of the Baobab Tree',
];
const SENTENCES = [
  'Once upon a time, in a village at the foot of the mountains, there lived a girl who could talk to birds.',
  'Every morning she walked two hours to school, and every evening she told her little brother what she had learned.',
  'The river was loud after the rain, and the bridge was gone.',
  '"We can build a new one," said the old goat, "if everybody brings one stone."',
  'Nobody believed him at first.',
  'The moon listened, and the moon smiled.',
  'Había una vez un niño que coleccionaba nubes en frascos de vidrio.',
  'その夜、星たちは静かに歌いはじめました。',
  '그날 밤, 고양이는 달을 향해 높이 뛰어올랐어요.',
  'Their teacher wrote the words on the board: courage, kindness, patience.',
  'When the drought came, the whole village shared what little water it had.',
  "And that is why, to this day, the crow's feathers are black as night.",
  'She opened the book, and the first page smelled like rain.',
];
const STORY_TAGS = ['adventure', 'animals', 'friendship', 'family', 'science', 'space', 'ocean', 'courage', 'school', 'nature', 'folk tale', 'bedtime', 'kindness', 'mystery', 'música', '友情', '동물'];
export const TRICKY_TAGS = ['NULL', '', 'a,b', 'sci-fi "space"', '{braces}', 'back\\slash', 'tab\there', 'multi\nline', '  padded  ', 'null'];
const GENRES = ['fiction', 'non-fiction', 'poetry', 'fable', 'biography', 'picture book', 'comic'];

/** Multi-paragraph story text; some authors leave their contact details in it. */
function storyContent(r: Rng): string {
  const paragraphs = 2 + r.int(4);
  let text = '';
  for (let p = 0; p < paragraphs; p++) {
    if (p > 0) text += '\n\n';
    const n = 2 + r.int(4);
    for (let s = 0; s < n; s++) text += (s > 0 ? ' ' : '') + r.pick(SENTENCES);
  }
  const x = r.next();
  if (x < 0.08) {
    const p = randomPerson(r);
    text += `\n\nIf you liked my story, write to me: ${p.email} or call ${phoneOf(r, p.culture)}.`;
  } else if (x < 0.11) {
    text += `\n\n${r.pick(TRICKY_TEXTS)}\tTHE END`;
  }
  return text;
}

const CAMPAIGN_TITLES = ['Books for Gulu Primary', 'Libraries in the Himalayas', 'Stories for Every Child 2024', 'Translate 100 Stories', 'Bibliotecas rurales en Oaxaca', '本を届けよう'];
const DONATION_MESSAGES = [
  'Keep up the great work!',
  'In memory of my grandmother, who taught me to read.',
  'For the kids in Pokhara ❤️',
  'Happy birthday, Zoë! This donation is your present.\nLove, Mum & Dad',
  'Please send the receipt to my work address instead.',
  '¡Muchas gracias por todo!',
  '読書の楽しさを子どもたちへ。',
];

function donationMessage(r: Rng): string {
  const x = r.next();
  if (x < 0.25) {
    const p = randomPerson(r);
    return `Please send the tax receipt to ${p.email} (or call ${phoneOf(r, p.culture)}). Thanks!`;
  }
  if (x < 0.3) return r.pick(TRICKY_TEXTS);
  return r.pick(DONATION_MESSAGES);
}

const CLASS_NAMES = ['Grade 3 – Reading Circle', 'Grade 5 Storytellers', 'English Club', 'Library Hour', '読書クラブ', '독서 모임', 'Taller de lectura', 'Form 2 "Blue"'];
const SKILLS = ['illustration', 'translation', 'proofreading', 'narration', 'Illustration, watercolor', 'Übersetzung (DE→EN)', '日本語翻訳', '"Proofreading"', 'C++', 'video editing', 'NULL'];
const VOL_LANGS = ['en', 'es', 'ne', 'ja', 'ko', 'sw', 'fr', 'ar', 'pl', 'de'];
const SEARCHES = ['dinosaurs', 'cuentos de animales', 'bedtime "short"', 'space\\moon', '星', 'moon\tgoat', "o'brien", 'dragón'];

// ---------------------------------------------------------------------------------------------
// The fixed users: the first slots hold every role and the edge cases, so even a tiny data set has them.

interface FixedUser {
  role: number;
  deleted?: boolean;
  inactive?: boolean;
  name?: string | null;
  email?: string;
}
const FIXED_USERS: FixedUser[] = [
  { role: LEARNER }, { role: TEACHER }, { role: INSTITUTION }, { role: VOLUNTEER }, { role: ADMIN }, { role: CUSTOMER },
  { role: LEARNER, deleted: true },
  { role: LEARNER, inactive: true },
  { role: CUSTOMER, name: 'María López', email: 'Maria.Lopez+stories@Example.org' },
  { role: LEARNER, name: 'José Núñez', email: 'jose.nunez@example.org' },
  { role: LEARNER, name: 'Zoë Müller', email: 'ZOE.MULLER@EXAMPLE.COM' },
  { role: TEACHER, name: 'Łukasz Wiśniewski', email: 'lukasz.wisniewski+class@szkola.example' },
  { role: LEARNER, name: '佐藤 花子', email: 'hanako.sato@example.jp' },
  { role: CUSTOMER, name: '김민준', email: 'minjun.kim+1001@naver.example' },
  { role: VOLUNTEER, deleted: true },
  { role: CUSTOMER, inactive: true },
  { role: LEARNER, name: null, email: 'no-name-learner@example.net' },
  { role: TEACHER, deleted: true },
  { role: INSTITUTION, name: "Saint Mary's \"Reading\" Trust", email: 'office@st-marys.example.org' },
  { role: LEARNER, deleted: true, inactive: true },
];
assertSafePools();

// ---------------------------------------------------------------------------------------------
// The world: everything about entity n that another table may need, recomputed on demand.

/** What other tables need to know about a user; cheap (one seeded generator, five draws). */
class UserCore {
  role = 0;
  deleted = false;
  inactive = false;
  school = -1;
  createdAt = 0;
  i = 0;
  /** Filled on first use by World.uid: most lookups never need the id. */
  id = '';
}

class UserPii {
  culture: Culture = CULTURES[0]!;
  first: Person = CULTURES[0]!.first[0]!;
  last: Person = CULTURES[0]!.last[0]!;
  name: string | null = null;
  email = '';
  phone = '';
}

class World {
  readonly n: number;
  readonly seed: number;
  readonly schools: number;
  readonly stories: number;
  readonly campaigns: number;
  private readonly r = new Rng();

  constructor(opts: DemoDataOptions) {
    checkDemoOptions(opts);
    this.n = opts.users;
    this.seed = opts.seed >>> 0;
    this.schools = Math.max(3, Math.ceil(opts.users / 250));
    this.stories = Math.max(12, Math.round(opts.users * 0.12));
    this.campaigns = Math.max(3, Math.ceil(opts.users / 800));
  }

  h(tag: number, n: number): number {
    return hash3(this.seed, tag, n);
  }
  /** A uniform number in [0, 1) for (tag, n). */
  hu(tag: number, n: number): number {
    return hash3(this.seed, tag, n) / 4294967296;
  }

  /** A cuid-like id: 'c', creation time, the ordinal (which makes it unique), a table letter, noise. */
  makeId(letter: string, ordinal: number, at: number): string {
    const h = hash3(this.seed, T.id + letter.charCodeAt(0), ordinal);
    return `c${base36(at, 8)}${base36(ordinal, 8)}${letter}${base36(h, 6)}${B36[(h >>> 26) % 36]}`;
  }

  core(i: number, out: UserCore): UserCore {
    const r = this.r.seed(this.h(T.userCore, i));
    const x = r.next();
    let role = 0;
    while (x >= ROLE_CUMULATIVE[role]!) role++;
    out.deleted = r.chance(0.03);
    out.inactive = r.chance(0.05);
    const schooled = role === LEARNER || role === TEACHER || role === INSTITUTION ? 0.7 : 0.05;
    out.school = r.chance(schooled) ? r.int(this.schools) : -1;
    out.createdAt = DEMO_EPOCH_MS - 3 * DAY - r.int(3 * YEAR);
    const fixed = FIXED_USERS[i];
    if (fixed) {
      role = fixed.role;
      out.deleted = !!fixed.deleted;
      out.inactive = !!fixed.inactive;
    }
    out.role = role;
    out.i = i;
    out.id = '';
    return out;
  }

  uid(core: UserCore): string {
    return core.id || (core.id = this.makeId('u', core.i, core.createdAt));
  }

  pii(i: number, out: UserPii): UserPii {
    const r = this.r.seed(this.h(T.userPii, i));
    const c = (out.culture = pickCulture(r));
    out.first = r.pick(c.first);
    out.last = r.pick(c.last);
    out.name = r.chance(0.02) ? null : fullName(c, out.first, out.last);
    out.email = emailFor(r, c, out.first, out.last, i);
    out.phone = phoneOf(r, c);
    const fixed = FIXED_USERS[i];
    if (fixed?.name !== undefined) out.name = fixed.name;
    if (fixed?.email !== undefined) out.email = fixed.email;
    return out;
  }

  schoolCreated(k: number): number {
    return DEMO_EPOCH_MS - 3 * YEAR - Math.floor(this.hu(T.schoolTime, k) * 2 * YEAR);
  }
  schoolId(k: number): string {
    return this.makeId('s', k, this.schoolCreated(k));
  }
  storyCreated(k: number): number {
    return DEMO_EPOCH_MS - DAY - Math.floor(this.hu(T.storyTime, k) * 2 * YEAR);
  }
  storyId(k: number): string {
    return this.makeId('t', k, this.storyCreated(k));
  }
  /** Cents, or -1 for a story without a price. */
  storyPrice(k: number): number {
    const x = this.hu(T.storyPrice, k);
    if (x < 0.1) return -1;
    if (x < 0.3) return 0;
    return (2 + Math.floor(((x - 0.3) / 0.7) * 18)) * 100 - 1;
  }
  campaignCreated(c: number): number {
    return DEMO_EPOCH_MS - 30 * DAY - Math.floor(this.hu(T.campaignTime, c) * 2 * YEAR);
  }
  campaignId(c: number): string {
    return this.makeId('g', c, this.campaignCreated(c));
  }
  /** Classes a user teaches: only active teachers have any. */
  classCount(i: number, core: UserCore): number {
    if (core.role !== TEACHER || core.inactive) return 0;
    const x = this.hu(T.classCount, i);
    return x < 0.2 ? 0 : x < 0.6 ? 1 : x < 0.85 ? 2 : 3;
  }
  classCreated(t: number, j: number, teacherCreated: number): number {
    return teacherCreated + Math.floor(this.hu(T.classTime, t * 4 + j) * (DEMO_EPOCH_MS - teacherCreated));
  }
  classId(t: number, j: number, teacherCreated: number): string {
    return this.makeId('k', t * 4 + j, this.classCreated(t, j, teacherCreated));
  }
  hasVolunteerProfile(i: number, core: UserCore): boolean {
    if (core.inactive) return false;
    return core.role === VOLUNTEER || (core.role === TEACHER && this.hu(T.vpPick, i) < 0.1);
  }
  volunteerCreated(i: number, userCreated: number): number {
    return userCreated + Math.floor(this.hu(T.vpTime, i) * (DEMO_EPOCH_MS - userCreated));
  }

  /** Scans from `start` for a user matching `accept`; -1 when none within `limit` steps. */
  scan(start: number, limit: number, scratch: UserCore, accept: (i: number, core: UserCore) => boolean): number {
    const steps = Math.min(limit, this.n);
    for (let s = 0; s < steps; s++) {
      const u = (start + s) % this.n;
      if (accept(u, this.core(u, scratch))) return u;
    }
    return -1;
  }
}

/** Counts rows and gathers them into ~64 KiB chunks. */
class Sink {
  buf = '';
  constructor(readonly counter: { rows: number }) {}
  add(row: string): void {
    this.buf += row;
    this.counter.rows++;
  }
  get full(): boolean {
    return this.buf.length >= CHUNK_CHARS;
  }
  take(): string {
    const b = this.buf;
    this.buf = '';
    return b;
  }
}

type TableGen = (w: World, out: Sink) => Generator<string>;

// ---------------------------------------------------------------------------------------------
// One generator per table. Each loops over its owners and yields whenever the sink is full.

const schools: TableGen = function* (w, out) {
  const r = new Rng();
  for (let k = 0; k < w.schools; k++) {
    r.seed(w.h(T.school, k));
    const c = pickCulture(r);
    const created = w.schoolCreated(k);
    const name = fill(r, r.pick(c.schools));
    const city = r.pick(c.cities);
    const contact = r.chance(0.8) ? `${r.pick(['office', 'principal', 'Library', 'info'])}${k}@${r.pick(DOMAINS)}` : null;
    const phone = r.chance(0.8) ? phoneOf(r, c) : null;
    const address = r.chance(0.9) ? `${fill(r, r.pick(c.streets))}, ${c.postal ? fill(r, c.postal) + ' ' : ''}${city}` : null;
    out.add(`${w.schoolId(k)}\t${safe(name)}\t${safe(contact)}\t${safe(phone)}\t${copyText(address)}\t${safe(city)}\t${c.country}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
    if (out.full) yield out.take();
  }
  if (out.buf) yield out.take();
};

const users: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const pii = new UserPii();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    w.pii(i, pii);
    r.seed(w.h(T.userRow, i));
    let updated = core.createdAt + r.int(DEMO_EPOCH_MS - core.createdAt);
    let deleted: string = COPY_NULL;
    if (core.deleted) {
      // A soft delete is the last write to the row.
      updated = updated + r.int(DEMO_EPOCH_MS - updated);
      deleted = ts(updated);
    }
    const verified = r.chance(0.7) ? ts(core.createdAt + r.int(3 * DAY)) : COPY_NULL;
    const image = r.chance(0.3) ? (r.chance(0.5) ? `https://lh3.googleusercontent.example/a/${chars64(r, B64URL, 28)}=s96-c` : `https://cdn.1001stories.example/avatars/${w.uid(core)}.png`) : COPY_NULL;
    const password = core.role === ADMIN || r.chance(0.75) ? `$2b$${r.chance(0.8) ? '10' : '12'}$${chars64(r, BCRYPT64, 53)}` : COPY_NULL;
    const tokenVersion = r.chance(0.1) ? 2 + r.int(4) : 1;
    const school = core.school >= 0 ? w.schoolId(core.school) : COPY_NULL;
    out.add(`${w.uid(core)}\t${safe(pii.email)}\t${verified}\t${safe(pii.name)}\t${image}\t${password}\t${USER_ROLES[core.role]}\t${tokenVersion}\t${school}\t${ts(core.createdAt)}\t${ts(updated)}\t${deleted}\n`);
    if (out.full) yield out.take();
  }
  if (out.buf) yield out.take();
};

const profiles: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const pii = new UserPii();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (core.inactive) continue;
    r.seed(w.h(T.profile, i));
    if (!r.chance(0.92) && !FIXED_USERS[i]) continue;
    w.pii(i, pii);
    const created = core.createdAt + r.int(DAY);
    const c = pii.culture;
    const phone = r.chance(0.75) ? phoneOf(r, c) : null;
    const age = core.role === LEARNER ? 6 + r.int(11) : r.chance(0.6) ? 18 + r.int(58) : -1;
    const dob = age < 0 ? COPY_NULL : ts(Math.floor((DEMO_EPOCH_MS - age * YEAR - r.int(YEAR)) / DAY) * DAY);
    let parentName: string | null = null;
    let parentEmail: string | null = null;
    if (core.role === LEARNER && age < 13 && r.chance(0.85)) {
      const parentFirst = r.pick(c.first);
      parentName = fullName(c, parentFirst, pii.last);
      parentEmail = emailFor(r, c, parentFirst, pii.last, i);
    }
    const text = r.chance(0.5) ? bio(r) : null;
    out.add(`${w.makeId('p', i, created)}\t${w.uid(core)}\t${safe(phone)}\t${dob}\t${safe(parentEmail)}\t${safe(parentName)}\t${copyText(text)}\t${c.lang}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
    if (out.full) yield out.take();
  }
  if (out.buf) yield out.take();
};

const PROVIDERS = ['google', 'github', 'kakao', 'apple'] as const;
const JWT_HEADER = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjFkYzBmMTcyIiwidHlwIjoiSldUIn0';

const accounts: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const pii = new UserPii();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (core.inactive) continue;
    r.seed(w.h(T.accounts, i));
    const count = r.chance(0.35) ? (r.chance(0.15) ? 2 : 1) : 0;
    if (count === 0) continue;
    w.pii(i, pii);
    const firstProvider = r.int(4);
    for (let m = 0; m < count; m++) {
      const provider = PROVIDERS[m === 0 ? firstProvider : (firstProvider + 1 + r.int(3)) % 4]!;
      const ord = i * 2 + m;
      const created = core.createdAt + r.int(DAY);
      const expiresAt = Math.floor(DEMO_EPOCH_MS / 1000) - r.int(30 * 86400) + 3600;
      let accountId: string, access: string, refresh: string, scope: string, idToken: string;
      switch (provider) {
        case 'google':
          // The fixed-width random prefix plus the ordinal keeps (provider, providerAccountId) unique.
          accountId = `1${fill(r, 'XXXXXXXXXXX')}${String(ord).padStart(9, '0')}`;
          access = `ya29.${chars64(r, B64URL, 160)}`;
          refresh = r.chance(0.7) ? `1//0${chars64(r, B64URL, 99)}` : COPY_NULL;
          scope = 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile';
          idToken = jwt(r, 'https://accounts.google.com', accountId, pii, expiresAt);
          break;
        case 'github':
          accountId = `${1 + r.int(9)}${ord}`;
          access = `gho_${charsOf(r, ALNUM, 36)}`;
          refresh = COPY_NULL;
          scope = 'read:user,user:email';
          idToken = COPY_NULL;
          break;
        case 'kakao':
          accountId = `${fill(r, 'XX')}${String(ord).padStart(8, '0')}`;
          access = chars64(r, B64URL, 54);
          refresh = chars64(r, B64URL, 54);
          scope = 'profile_nickname account_email';
          idToken = COPY_NULL;
          break;
        default:
          accountId = `000${fill(r, 'XXX')}.${hex(r, 32)}.${String(ord).padStart(4, '0')}`;
          access = `a${hex(r, 32)}.0.${charsOf(r, 'abcdefghijklmnopqrstuvwxyz', 4)}.${chars64(r, B64URL, 22)}`;
          refresh = `r${hex(r, 32)}.0.${charsOf(r, 'abcdefghijklmnopqrstuvwxyz', 4)}.${chars64(r, B64URL, 22)}`;
          scope = 'name email';
          idToken = jwt(r, 'https://appleid.apple.com', accountId, pii, expiresAt);
      }
      out.add(`${w.makeId('a', ord, created)}\t${w.uid(core)}\toauth\t${provider}\t${accountId}\t${refresh}\t${access}\t${expiresAt}\t${r.chance(0.5) ? 'Bearer' : 'bearer'}\t${scope}\t${idToken}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

/** A JWT-shaped id token whose payload, like a real one, carries the e-mail and name. */
function jwt(r: Rng, iss: string, sub: string, pii: UserPii, exp: number): string {
  const payload = `{"iss":${js(iss)},"aud":"1001stories.apps.example","sub":${js(sub)},"email":${js(pii.email)},"email_verified":true,"name":${pii.name === null ? 'null' : js(pii.name)},"iat":${exp - 3600},"exp":${exp}}`;
  return `${JWT_HEADER}.${Buffer.from(payload).toString('base64url')}.${chars64(r, B64URL, 342)}`;
}

const sessions: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (core.inactive || core.deleted) continue;
    r.seed(w.h(T.sessions, i));
    const x = r.next();
    const count = x < 0.4 ? 0 : x < 0.75 ? 1 : x < 0.95 ? 2 : 3;
    for (let m = 0; m < count; m++) {
      const ord = i * 4 + m;
      const created = DEMO_EPOCH_MS - r.int(30 * DAY);
      // A v4-shaped UUID whose last group is the ordinal: random alone could collide at a million users.
      const token = `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-${'89ab'[r.int(4)]}${hex(r, 3)}-${ord.toString(16).padStart(12, '0')}`;
      out.add(`${w.makeId('x', ord, created)}\t${token}\t${w.uid(core)}\t${ts(created + 30 * DAY)}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

/** Story 0 carries every awkward array element; stories 1 and 2 have empty and NULL arrays. */
const FIXED_STORY_TAGS: Array<string[] | null> = [TRICKY_TAGS, [], null];

const stories: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const scratch = new UserCore();
  const pii = new UserPii();
  for (let k = 0; k < w.stories; k++) {
    r.seed(w.h(T.story, k));
    // Children write most stories: prefer an active learner near a random start, else any active user.
    const wantLearner = r.chance(0.7);
    const start = r.int(w.n);
    let author = wantLearner ? w.scan(start, 64, scratch, (_, c) => !c.inactive && c.role === LEARNER) : -1;
    if (author < 0) author = w.scan(start, w.n, scratch, (_, c) => !c.inactive);
    w.core(author, core);
    w.pii(author, pii);
    const created = w.storyCreated(k);
    const title = r.pick(TITLES);
    const content = storyContent(r);
    const summary = r.chance(0.6) ? `${content.slice(0, 80 + r.int(60))}…` : null;
    const child = core.role === LEARNER;
    const authorName = r.chance(0.1) ? null : child && pii.name !== null && r.chance(0.5) ? `${pii.first.display} ${pii.last.display[0]}.` : pii.name;
    const age = child ? (r.chance(0.95) ? String(6 + r.int(11)) : COPY_NULL) : r.chance(0.3) ? String(20 + r.int(50)) : COPY_NULL;
    const location = r.chance(0.9) ? `${r.pick(pii.culture.cities)}, ${pii.culture.countryName}` : null;
    let tags: string[] | null;
    let genres: string[] | null;
    if (k < FIXED_STORY_TAGS.length) {
      tags = FIXED_STORY_TAGS[k]!;
      genres = tags;
    } else {
      tags = r.chance(0.05) ? null : pickDistinct(r, r.chance(0.04) ? TRICKY_TAGS : STORY_TAGS, r.chance(0.12) ? 0 : 1 + r.int(4));
      genres = pickDistinct(r, GENRES, r.chance(0.15) ? 0 : 1 + r.int(2));
    }
    const price = w.storyPrice(k);
    out.add(`${w.storyId(k)}\t${w.uid(core)}\t${safe(title)}\t${copyText(content)}\t${copyText(summary)}\t${safe(authorName)}\t${age}\t${safe(location)}\t${copyArray(tags)}\t${copyArray(genres)}\t${price < 0 ? COPY_NULL : money(price)}\t${bool(r.chance(0.85))}\t${pii.culture.lang}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
    if (out.full) yield out.take();
  }
  if (out.buf) yield out.take();
};

function pickDistinct(r: Rng, pool: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const v = r.pick(pool);
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

const READS_BY_ROLE = [8, 5, 2, 3, 1, 6]; // upper bound of stories read, indexed by role

const readingProgress: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const picked: number[] = [];
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (core.inactive) continue;
    r.seed(w.h(T.reading, i));
    const count = r.chance(0.25) ? 0 : 1 + r.int(READS_BY_ROLE[core.role]!);
    picked.length = 0;
    for (let m = 0; m < count; m++) {
      const k = r.int(w.stories);
      if (picked.includes(k)) continue; // unique (userId, storyId)
      picked.push(k);
      const last = core.createdAt + r.int(DEMO_EPOCH_MS - core.createdAt);
      const pct = r.chance(0.35) ? 100 : r.int(100);
      out.add(`${w.makeId('r', i * 8 + m, last)}\t${w.uid(core)}\t${w.storyId(k)}\t${pct}\t${bool(pct === 100)}\t${ts(last)}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

// Orders and their items are drawn from the same per-order sequence, so both tables agree.
const ORDER_CHANCE = [0.15, 0.25, 0.5, 0.1, 0.05, 0.7]; // by role
const GUEST_SLOT = 7;

interface OrderSlots {
  count: number;
  guest: boolean;
}

function orderSlots(w: World, r: Rng, i: number, core: UserCore, out: OrderSlots): OrderSlots {
  r.seed(w.h(T.orderSlots, i));
  out.count = !core.inactive && r.chance(ORDER_CHANCE[core.role]!) ? 1 + r.int(core.role === CUSTOMER ? 4 : 2) : 0;
  out.guest = r.chance(0.03);
  return out;
}

class OrderHead {
  created = 0;
  items = 0;
  story = [0, 0, 0, 0];
  qty = [0, 0, 0, 0];
  id = '';
}

function orderHead(w: World, r: Rng, ord: number, ownerCreated: number, bulk: boolean, out: OrderHead): OrderHead {
  r.seed(w.h(T.order, ord));
  out.created = ownerCreated + r.int(DEMO_EPOCH_MS - ownerCreated);
  out.items = r.chance(0.6) ? 1 : 1 + r.int(4);
  for (let m = 0; m < out.items; m++) {
    out.story[m] = r.int(w.stories);
    out.qty[m] = bulk ? 5 + r.int(26) : r.chance(0.15) ? 2 + r.int(2) : 1;
  }
  out.id = w.makeId('o', ord, out.created);
  return out;
}

const itemPrice = (w: World, k: number) => {
  const p = w.storyPrice(k);
  return p < 0 ? 499 : p; // unpriced stories sold at the legacy flat price
};

const ORDER_STATUSES = ['PENDING', 'PAID', 'PAID', 'SHIPPED', 'DELIVERED', 'DELIVERED', 'DELIVERED', 'CANCELLED', 'REFUNDED'];
const TAX_RATES = [0, 0.0725, 0.1, 0.13, 0.19];

const orders: TableGen = function* (w, out) {
  const r = new Rng();
  const rest = new Rng();
  const core = new UserCore();
  const pii = new UserPii();
  const slots: OrderSlots = { count: 0, guest: false };
  const head = new OrderHead();
  const guestSince = DEMO_EPOCH_MS - 2 * YEAR;
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    orderSlots(w, r, i, core, slots);
    if (slots.count > 0) w.pii(i, pii);
    for (let s = 0; s < slots.count + (slots.guest ? 1 : 0); s++) {
      const guest = s === slots.count;
      const ord = i * 8 + (guest ? GUEST_SLOT : s);
      orderHead(w, r, ord, guest ? guestSince : core.createdAt, !guest && core.role === INSTITUTION, head);
      rest.seed(w.h(T.orderRest, ord));
      let subtotal = 0;
      for (let m = 0; m < head.items; m++) subtotal += itemPrice(w, head.story[m]!) * head.qty[m]!;
      const tax = Math.round(subtotal * rest.pick(TAX_RATES));
      let email: string, name: string, c: Culture;
      if (guest) {
        const p = randomPerson(rest);
        email = p.email;
        name = p.name;
        c = p.culture;
      } else {
        c = pii.culture;
        name = pii.name ?? `${pii.first.display} ${pii.last.display}`;
        email = rest.chance(0.85) ? pii.email : emailFor(rest, c, pii.first, pii.last, i);
      }
      const phone = rest.chance(0.7) ? phoneOf(rest, c) : null;
      const shipping = rest.chance(0.8) ? addressJson(rest, c, name, phone) : null;
      const y = rest.next();
      const billing = y < 0.5 ? shipping : y < 0.8 ? addressJson(rest, c, name, null) : null;
      const status = rest.pick(ORDER_STATUSES);
      const stripe = status === 'PENDING' && rest.chance(0.5) ? COPY_NULL : `pi_${charsOf(rest, ALNUM, 24)}`;
      out.add(`${head.id}\t${guest ? COPY_NULL : w.uid(core)}\t${safe(email)}\t${safe(phone)}\t${copyText(shipping)}\t${copyText(billing)}\t${stripe}\t${money(subtotal)}\t${money(tax)}\t${money(subtotal + tax)}\t${status}\t${ts(head.created)}\t${ts(head.created + rest.int(DEMO_EPOCH_MS - head.created))}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const orderItems: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const slots: OrderSlots = { count: 0, guest: false };
  const head = new OrderHead();
  const guestSince = DEMO_EPOCH_MS - 2 * YEAR;
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    orderSlots(w, r, i, core, slots);
    for (let s = 0; s < slots.count + (slots.guest ? 1 : 0); s++) {
      const guest = s === slots.count;
      const ord = i * 8 + (guest ? GUEST_SLOT : s);
      orderHead(w, r, ord, guest ? guestSince : core.createdAt, !guest && core.role === INSTITUTION, head);
      for (let m = 0; m < head.items; m++) {
        const k = head.story[m]!;
        out.add(`${w.makeId('i', ord * 4 + m, head.created)}\t${head.id}\t${w.storyId(k)}\t${head.qty[m]}\t${money(itemPrice(w, k))}\n`);
      }
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const donationCampaigns: TableGen = function* (w, out) {
  const r = new Rng();
  const scratch = new UserCore();
  for (let c = 0; c < w.campaigns; c++) {
    r.seed(w.h(T.campaign, c));
    const created = w.campaignCreated(c);
    // Campaign 1 lost its creator (SET NULL); the others belong to an active admin or institution.
    const creator = c === 1 ? -1 : w.scan(r.int(w.n), w.n, scratch, (_, u) => !u.inactive && (u.role === ADMIN || u.role === INSTITUTION));
    const creatorId = creator < 0 ? COPY_NULL : w.uid(w.core(creator, scratch));
    const p = randomPerson(r);
    const description = r.chance(0.8) ? `Every ${r.int(2) ? 'book' : 'dollar'} counts.\nQuestions? Contact ${p.name} at ${p.email}.` : null;
    const starts = created + r.int(30 * DAY);
    const ends = r.chance(0.5) ? ts(starts + (30 + r.int(150)) * DAY) : COPY_NULL;
    out.add(`${w.campaignId(c)}\t${copyText(r.pick(CAMPAIGN_TITLES))}\t${copyText(description)}\t${money((10 + r.int(490)) * 10000)}\t${creatorId}\t${ts(starts)}\t${ends}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
    if (out.full) yield out.take();
  }
  if (out.buf) yield out.take();
};

const DONATION_AMOUNTS = [500, 1000, 2000, 2500, 5000, 10000, 25000, 50000];
const CURRENCIES = ['USD', 'USD', 'USD', 'EUR', 'KRW', 'JPY', 'NPR', 'UGX'];

const donations: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const pii = new UserPii();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    r.seed(w.h(T.donations, i));
    const own = !core.inactive && r.chance(0.08) ? (r.chance(0.2) ? 2 : 1) : 0;
    const guest = r.chance(0.04);
    if (own > 0) w.pii(i, pii);
    for (let m = 0; m < 3; m++) {
      const isGuest = m === 2;
      if (isGuest ? !guest : m >= own) continue;
      let donorId: string, email: string, name: string | null, anonymous: boolean, created: number;
      if (isGuest) {
        // Anonymous donations have no donor row at all, but the receipt still needs an address.
        const p = randomPerson(r);
        donorId = COPY_NULL;
        anonymous = r.chance(0.6);
        email = p.email;
        name = anonymous ? (r.chance(0.5) ? null : 'Anonymous') : p.name;
        created = DEMO_EPOCH_MS - DAY - r.int(2 * YEAR);
      } else {
        donorId = w.uid(core);
        anonymous = r.chance(0.05);
        email = pii.email;
        name = pii.name;
        created = core.createdAt + r.int(DEMO_EPOCH_MS - core.createdAt);
      }
      const message = r.chance(0.4) ? donationMessage(r) : null;
      const amount = r.pick(DONATION_AMOUNTS) + (r.chance(0.2) ? r.int(100) : 0);
      const campaign = r.chance(0.8) ? w.campaignId(r.int(w.campaigns)) : COPY_NULL;
      out.add(`${w.makeId('d', i * 4 + m, created)}\t${donorId}\t${safe(email)}\t${safe(name)}\t${copyText(message)}\t${bool(anonymous)}\t${money(amount)}\t${r.pick(CURRENCIES)}\t${campaign}\tpi_${charsOf(r, ALNUM, 24)}\t${ts(created)}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const classes: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  for (let t = 0; t < w.n; t++) {
    w.core(t, core);
    const count = w.classCount(t, core);
    for (let j = 0; j < count; j++) {
      const ord = t * 4 + j;
      r.seed(w.h(T.classRow, ord));
      const created = w.classCreated(t, j, core.createdAt);
      // A fixed-width random part followed by the ordinal: unique without remembering the others.
      const code = `${charsOf(r, UPPER_ALNUM, 3)}${ord.toString(36).toUpperCase()}`;
      const school = core.school >= 0 && r.chance(0.9) ? w.schoolId(core.school) : COPY_NULL;
      out.add(`${w.makeId('k', ord, created)}\t${w.uid(core)}\t${school}\t${copyText(r.pick(CLASS_NAMES))}\t${code}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const classEnrollments: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const scratch = new UserCore();
  const isTeacherWithClasses = (u: number, c: UserCore) => w.classCount(u, c) > 0;
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (core.role !== LEARNER || core.inactive) continue;
    r.seed(w.h(T.enroll, i));
    const x = r.next();
    const count = x < 0.4 ? 0 : x < 0.85 ? 1 : 2;
    let previous = '';
    for (let m = 0; m < count; m++) {
      const teacher = w.scan(r.int(w.n), 4096, scratch, isTeacherWithClasses);
      if (teacher < 0) break;
      const j = r.int(w.classCount(teacher, scratch));
      const classId = w.classId(teacher, j, scratch.createdAt);
      if (classId === previous) continue; // unique (classId, studentId)
      previous = classId;
      const since = Math.max(core.createdAt, w.classCreated(teacher, j, scratch.createdAt));
      const enrolled = since + r.int(DEMO_EPOCH_MS - since);
      out.add(`${w.makeId('e', i * 2 + m, enrolled)}\t${classId}\t${w.uid(core)}\t${ts(enrolled)}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const SUBSCRIPTION_CHANCE = [0.1, 0.2, 0.6, 0.05, 0, 0.35]; // by role
const READER_PLANS = ['READER_MONTHLY', 'READER_ANNUAL', 'FAMILY'];

const subscriptions: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (core.inactive) continue;
    r.seed(w.h(T.subs, i));
    if (!r.chance(SUBSCRIPTION_CHANCE[core.role]!)) continue;
    const count = r.chance(0.15) ? 2 : 1;
    const customer = r.chance(0.9) ? `cus_${charsOf(r, ALNUM, 14)}` : COPY_NULL;
    const plan = core.role === INSTITUTION ? 'INSTITUTION' : core.role === TEACHER ? 'CLASSROOM' : r.pick(READER_PLANS);
    for (let m = 0; m < count; m++) {
      // The second one is an older, cancelled subscription.
      const status = m === 1 ? 'canceled' : core.deleted ? 'canceled' : r.pick(['active', 'active', 'active', 'trialing', 'past_due']);
      const created = core.createdAt + r.int(DEMO_EPOCH_MS - core.createdAt);
      const periodEnd = status === 'canceled' ? created + 30 * DAY : DEMO_EPOCH_MS + r.int(30 * DAY);
      out.add(`${w.makeId('b', i * 2 + m, created)}\t${w.uid(core)}\t${plan}\t${status}\t${customer}\t${ts(periodEnd)}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const NOTIFICATION_TYPES = ['ORDER_SHIPPED', 'MESSAGE', 'DONATION_RECEIPT', 'CLASS_INVITE', 'NEW_STORY', 'SECURITY'] as const;

function notificationMessage(r: Rng, type: (typeof NOTIFICATION_TYPES)[number]): string {
  const p = randomPerson(r);
  switch (type) {
    case 'ORDER_SHIPPED':
      return `Your order #${charsOf(r, UPPER_ALNUM, 8)} has shipped to ${fill(r, r.pick(p.culture.streets))}, ${r.pick(p.culture.cities)}. Questions? Call ${phoneOf(r, p.culture)}.`;
    case 'MESSAGE':
      return `New message from ${p.name} <${p.email}>:\n"Can you call me at ${phoneOf(r, p.culture)}? Thanks!"`;
    case 'DONATION_RECEIPT':
      return `Thank you! A receipt for your donation was sent to ${p.email}.`;
    case 'CLASS_INVITE':
      return `${p.name} invited you to join “${r.pick(CLASS_NAMES)}” (code ${charsOf(r, UPPER_ALNUM, 6)}).`;
    case 'NEW_STORY':
      return `New story by ${p.name} (age ${6 + r.int(11)}, ${r.pick(p.culture.cities)}): “${r.pick(TITLES)}”`;
    default:
      return `New sign-in from ${r.chance(0.7) ? ipv4(r) : ipv6(r)}. Not you? Reset your password or write to ${p.email}.`;
  }
}

const notifications: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (core.inactive) continue;
    r.seed(w.h(T.notif, i));
    const count = r.chance(0.3) ? 0 : 1 + r.int(5);
    for (let m = 0; m < count; m++) {
      const created = core.createdAt + r.int(DEMO_EPOCH_MS - core.createdAt);
      const type = r.pick(NOTIFICATION_TYPES);
      out.add(`${w.makeId('n', i * 8 + m, created)}\t${w.uid(core)}\t${type}\t${copyText(notificationMessage(r, type))}\t${bool(r.chance(0.6))}\t${ts(created)}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const ACTIONS = ['LOGIN', 'LOGIN', 'VIEW_STORY', 'VIEW_STORY', 'VIEW_STORY', 'SEARCH', 'PURCHASE', 'UPDATE_PROFILE', 'PASSWORD_RESET', 'LOGOUT'] as const;

function logMetadata(w: World, r: Rng, action: (typeof ACTIONS)[number], email: string, phone: string, ip: string): string | null {
  if (r.chance(0.1)) return null;
  switch (action) {
    case 'LOGIN':
      return r.chance(0.5) ? `{"method":"credentials","email":${js(email)},"success":${r.chance(0.9)}}` : `{"method":${js(r.pick(PROVIDERS))}}`;
    case 'VIEW_STORY': {
      const id = w.storyId(r.int(w.stories));
      return `{"storyId":${js(id)},"path":${js(`/stories/${id}`)},"durationMs":${r.int(600_000)}}`;
    }
    case 'SEARCH':
      return `{"query":${js(r.pick(SEARCHES))},"results":${r.int(40)}}`;
    case 'PURCHASE':
      return `{"amount":${money(499 + r.int(5000))},"currency":"USD","cardLast4":"${fill(r, 'XXXX')}","billingEmail":${js(email)}}`;
    case 'UPDATE_PROFILE':
      return `{"changed":["phone","bio"],"previous":{"phone":${js(phone)}}}`;
    case 'PASSWORD_RESET':
      return `{"requestedFor":${js(email)},"ip":${js(ip)}}`;
    default:
      return '{}';
  }
}

const activityLogs: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  const pii = new UserPii();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    r.seed(w.h(T.logs, i));
    const own = core.inactive || r.chance(0.2) ? 0 : 1 + r.int(8);
    const anonymous = r.chance(0.12) ? 1 + r.int(2) : 0;
    if (own > 0) w.pii(i, pii);
    for (let m = 0; m < own + anonymous; m++) {
      const mine = m < own;
      const created = mine ? core.createdAt + r.int(DEMO_EPOCH_MS - core.createdAt) : DEMO_EPOCH_MS - DAY - r.int(YEAR);
      const action = mine ? r.pick(ACTIONS) : r.chance(0.5) ? 'VIEW_STORY' : 'SEARCH';
      const x = r.next();
      const ip = x < 0.7 ? ipv4(r) : x < 0.95 ? ipv6(r) : null;
      const ua = r.chance(0.97) ? userAgent(r) : null;
      // Anonymous visits only view and search, whose metadata names nobody.
      const metadata = logMetadata(w, r, action, mine ? pii.email : '', mine ? pii.phone : '', ip ?? '');
      // Anonymous visits use slots 8.. of the user's ordinal range, so ids stay unique.
      out.add(`${w.makeId('l', i * 12 + (mine ? m : 8 + m - own), created)}\t${mine ? w.uid(core) : COPY_NULL}\t${action}\t${safe(ip)}\t${safe(ua)}\t${copyText(metadata)}\t${ts(created)}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const volunteerProfiles: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (!w.hasVolunteerProfile(i, core)) continue;
    r.seed(w.h(T.vpRow, i));
    const created = w.volunteerCreated(i, core.createdAt);
    const skills = pickDistinct(r, SKILLS, r.chance(0.15) ? 0 : 1 + r.int(4));
    const langs = pickDistinct(r, VOL_LANGS, 1 + r.int(3));
    out.add(`${w.makeId('v', i, created)}\t${w.uid(core)}\t${copyArray(skills)}\t${copyArray(langs)}\t${r.int(41)}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
    if (out.full) yield out.take();
  }
  if (out.buf) yield out.take();
};

const TASKS = ['ILLUSTRATE', 'TRANSLATE', 'PROOFREAD', 'NARRATE', 'REVIEW'];
const TASK_STATUSES = ['OPEN', 'IN_PROGRESS', 'DONE', 'DONE', 'CANCELLED'];

const volunteerAssignments: TableGen = function* (w, out) {
  const r = new Rng();
  const core = new UserCore();
  for (let i = 0; i < w.n; i++) {
    w.core(i, core);
    if (!w.hasVolunteerProfile(i, core)) continue;
    r.seed(w.h(T.vassign, i));
    const profileCreated = w.volunteerCreated(i, core.createdAt);
    const profileId = w.makeId('v', i, profileCreated);
    const count = r.int(4);
    for (let m = 0; m < count; m++) {
      const created = profileCreated + r.int(DEMO_EPOCH_MS - profileCreated);
      const story = r.chance(0.8) ? w.storyId(r.int(w.stories)) : COPY_NULL;
      out.add(`${w.makeId('w', i * 4 + m, created)}\t${profileId}\t${story}\t${r.pick(TASKS)}\t${r.pick(TASK_STATUSES)}\t${ts(created)}\t${ts(created + r.int(DEMO_EPOCH_MS - created))}\n`);
      if (out.full) yield out.take();
    }
  }
  if (out.buf) yield out.take();
};

const GENERATORS: Record<DemoTable, TableGen> = {
  schools,
  users,
  profiles,
  accounts,
  sessions,
  stories,
  reading_progress: readingProgress,
  orders,
  order_items: orderItems,
  donation_campaigns: donationCampaigns,
  donations,
  classes,
  class_enrollments: classEnrollments,
  subscriptions,
  notifications,
  activity_logs: activityLogs,
  volunteer_profiles: volunteerProfiles,
  volunteer_assignments: volunteerAssignments,
};

/** A table's rows as COPY text chunks of ~64 KiB; `counter.rows` grows as they are produced. */
export function* tableChunks(table: DemoTable, opts: DemoDataOptions, counter: { rows: number } = { rows: 0 }): Generator<string, number> {
  const gen = GENERATORS[table];
  if (!gen) throw new RangeError(`unknown demo table "${table}"`);
  yield* gen(new World(opts), new Sink(counter));
  return counter.rows;
}

/** The same chunks as a byte stream, for `pipeline(tableStream(…), copyWritable)`. */
export function tableStream(table: DemoTable, opts: DemoDataOptions, counter: { rows: number } = { rows: 0 }): Readable {
  return Readable.from(tableChunks(table, opts, counter), { objectMode: false });
}
