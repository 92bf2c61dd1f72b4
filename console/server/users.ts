import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type Role = 'operator' | 'supervisor';
export const ROLES: readonly Role[] = ['operator', 'supervisor'];

/** scrypt cost: N=2^15, r=8, p=1 takes ~50-100 ms on a lane PC and 32 MiB of memory. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, keyLen: 64 } as const;

/** One account as stored in the users file: never the password, only its scrypt hash. */
export interface UserRecord {
  name: string;
  role: Role;
  /** `scrypt$N$r$p$<salt base64>$<hash base64>` */
  password: string;
  createdAt: string;
}

interface UsersFile {
  users: UserRecord[];
}

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password.normalize('NFKC'), salt, keyLen, { ...opts, maxmem: 128 * opts.N! * opts.r! * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a password with a fresh 16-byte salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks a password against a stored hash in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const key = await scrypt(password, Buffer.from(saltB64, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Shortest password `checkpoint-edge users add/passwd` accepts. */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * Why a password may not be set for an account, or null when it may: at least 12 characters,
 * and neither the user name nor containing it (case and accents ignored).
 */
export function passwordProblem(name: string, password: string): string | null {
  const fold = (v: string) => v.normalize('NFKC').toLowerCase();
  if ([...password.normalize('NFKC')].length < MIN_PASSWORD_LENGTH)
    return `the password of ${name} is too short: use at least ${MIN_PASSWORD_LENGTH} characters (a few unrelated words are easy to type and hard to guess)`;
  if (fold(password).includes(fold(name)))
    return `the password of ${name} contains the user name: choose one that does not`;
  return null;
}

/** A name fit for the audit log and for MQTT events: letters, digits, . _ - and @. */
function validUserName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name);
}

/**
 * The console's accounts, kept in a JSON file (console.usersFile) that an administrator edits
 * with `checkpoint-edge users`. The file is re-read when it changes on disk, so an added user
 * can log in without a restart.
 */
export class UserDirectory {
  readonly path: string;
  #users: UserRecord[] = [];
  #loadedMtime = -1;
  /** A hash to spend the same time on for an unknown user, so timing does not reveal names. */
  #dummy: Promise<string> | null = null;

  constructor(path: string) {
    this.path = path;
  }

  /** Reads the file; a missing file is an empty directory. Throws with the file and what to fix. */
  load(): void {
    if (!existsSync(this.path)) {
      this.#users = [];
      this.#loadedMtime = -1;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new Error(
        `users file ${this.path} is not valid JSON (${(err as Error).message}): fix it or recreate it with 'checkpoint-edge users add'`,
      );
    }
    const list = (parsed as Partial<UsersFile>)?.users;
    if (!Array.isArray(list)) throw new Error(`users file ${this.path}: expected {"users": [...]}`);
    list.forEach((u: Partial<UserRecord>, i) => {
      if (!u || typeof u.name !== 'string' || !validUserName(u.name))
        throw new Error(`users file ${this.path}: users[${i}].name is missing or not a valid name`);
      if (!ROLES.includes(u.role as Role))
        throw new Error(
          `users file ${this.path}: users[${i}] (${u.name}): role must be ${ROLES.join(' or ')}, got ${JSON.stringify(u.role)}`,
        );
      if (typeof u.password !== 'string' || !u.password.startsWith('scrypt$'))
        throw new Error(
          `users file ${this.path}: users[${i}] (${u.name}): password must be an scrypt hash; set it with 'checkpoint-edge users passwd ${u.name}'`,
        );
    });
    this.#users = list as UserRecord[];
    this.#loadedMtime = this.#mtime();
  }

  #mtime(): number {
    try {
      return statSync(this.path).mtimeMs;
    } catch {
      return -1;
    }
  }

  #refresh(): void {
    if (this.#mtime() !== this.#loadedMtime) this.load();
  }

  list(): Omit<UserRecord, 'password'>[] {
    this.#refresh();
    return this.#users.map(({ name, role, createdAt }) => ({ name, role, createdAt }));
  }

  get(name: string): UserRecord | undefined {
    this.#refresh();
    return this.#users.find((u) => u.name === name);
  }

  /**
   * Adds a user or, with replace, sets the role and password of an existing one. The same password
   * again keeps its stored hash, so a role change alone leaves the user's console sessions open; a
   * new password ends them (the console compares a fingerprint of the hash on every request).
   */
  async set(name: string, role: Role, password: string, opts: { replace?: boolean } = {}): Promise<void> {
    if (!validUserName(name))
      throw new Error(`user name "${name}" is not valid: use letters, digits, . _ - @ (at most 64)`);
    if (!ROLES.includes(role)) throw new Error(`role "${role}" is not valid: use ${ROLES.join(' or ')}`);
    if (password.length < 4)
      throw new Error(`the password of ${name} is too short: use at least 4 characters (12 or more for real accounts)`);
    this.load();
    const existing = this.#users.find((u) => u.name === name);
    if (existing && !opts.replace)
      throw new Error(
        `user ${name} already exists in ${this.path}: use 'checkpoint-edge users passwd ${name}' to change the password`,
      );
    const unchanged = existing !== undefined && (await verifyPassword(password, existing.password).catch(() => false));
    const record: UserRecord = {
      name,
      role,
      password: unchanged ? existing.password : await hashPassword(password),
      createdAt: existing?.createdAt ?? new Date().toISOString(),
    };
    this.#users = existing ? this.#users.map((u) => (u.name === name ? record : u)) : [...this.#users, record];
    this.#save();
  }

  /** Changes the role of an existing user, keeping the password (and so the open sessions); false if there is no such user. */
  setRole(name: string, role: Role): boolean {
    if (!ROLES.includes(role)) throw new Error(`role "${role}" is not valid: use ${ROLES.join(' or ')}`);
    this.load();
    const existing = this.#users.find((u) => u.name === name);
    if (!existing) return false;
    this.#users = this.#users.map((u) => (u.name === name ? { ...u, role } : u));
    this.#save();
    return true;
  }

  remove(name: string): boolean {
    this.load();
    const before = this.#users.length;
    this.#users = this.#users.filter((u) => u.name !== name);
    if (this.#users.length === before) return false;
    this.#save();
    return true;
  }

  /**
   * Returns the user when the password is right, else null; spends a hash either way. `credential`
   * is the fingerprint of the very hash the password was checked against, so a session opened
   * while the password is being changed still ends with the change.
   */
  async authenticate(
    name: string,
    password: string,
  ): Promise<(Omit<UserRecord, 'password'> & { credential: string }) | null> {
    const u = typeof name === 'string' ? this.get(name) : undefined;
    if (!u) {
      this.#dummy ??= hashPassword(randomBytes(12).toString('base64'));
      await verifyPassword(password, await this.#dummy);
      return null;
    }
    if (!(await verifyPassword(password, u.password))) return null;
    return { name: u.name, role: u.role, createdAt: u.createdAt, credential: credentialOf(u.password) };
  }

  #save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify({ users: this.#users } satisfies UsersFile, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    this.#loadedMtime = this.#mtime();
  }
}

/** The fingerprint of a stored password hash that a session keeps (not the hash itself). */
export function credentialOf(passwordHash: string): string {
  return createHash('sha256').update(`session-credential:${passwordHash}`).digest('base64url').slice(0, 22);
}
