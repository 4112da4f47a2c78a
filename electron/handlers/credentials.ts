/**
 * cred.*: the Credentials screen — after a recovery or a suspected compromise, look at, narrow and
 * replace the node's credentials offline (Core Lightning runes, LND macaroons; engine in
 * shared/credentials).
 *
 * - cred.inspect: auto-detects a macaroon (binary file, hex, base64) or a rune (base64url) and
 *   describes it. A rune is checked against the loaded secret's rune master secret
 *   (makesecret("commando") over the whole secret, as lightningd does — never the
 *   `lightning-hsmtool makerune` variant, which is wrong for mnemonic nodes). A macaroon is
 *   verified when its root key is given, at the given time (default: now) and client IP.
 * - cred.restrict: adds rune restrictions or macaroon caveats (no secret or root key needed;
 *   nobody can remove them afterwards).
 * - cred.mintRune: a rune as `lightning-cli createrune` makes it on the loaded node.
 * - cred.save: writes a credential with writeFileAtomic (mode 0600, never overwriting).
 * - cred.rotation: the rotation reminder. The date of the last rotation the operator recorded is
 *   kept in this backend's memory only (until the app quits; forgetting the secret keeps it, as
 *   it is about credentials, not the secret). The app writes nothing unasked, so it is not
 *   stored on disk; the screen tells the operator to note the next due date (last + 90 days) in
 *   their own records.
 *
 * Credentials are not the hsm_secret: the renderer sends what the operator pasted and gets back
 * descriptions and the new credential text (the operator asked to see it, to copy it). Root keys
 * and rune master secrets stay here and are zeroized after use.
 */
import { CldcbError } from '../../shared/errors';
import { fromUtf8, zeroize } from '../../shared/bytes';
import type { CredentialResult, CredentialView, RotationView } from '../../shared/ipc/contract';
import {
  attenuateMacaroon,
  caveatsFromOptions,
  decodeMacaroon,
  decodeRune,
  encodeMacaroon,
  encodeRune,
  inspectMacaroon,
  inspectRune,
  macaroonToText,
  mintRune,
  parseGoRfc3339,
  parseRootKey,
  parseUnixSeconds,
  restrictionToString,
  restrictRune,
  restrictionsFromOptions,
  runeMasterSecret,
  type Macaroon,
  type MacaroonInspection,
  type Rune,
  type RuneInspection,
  type RuneRestriction,
} from '../../shared/credentials';
import { writeFileAtomic } from '../../shared/node/atomicFile';
import { qrSvgDataUrl } from '../../shared/node/qr';
import { b64ToBytes, type BackendContext, type HandlerGroup, type Session } from './context';

type C = 'cred.inspect' | 'cred.restrict' | 'cred.mintRune' | 'cred.save' | 'cred.rotation';

/** Rotate credentials at least this often (the screen's policy). */
export const ROTATION_DAYS = 90;
const DAY_MS = 86_400_000;

type Decoded = { kind: 'macaroon'; macaroon: Macaroon } | { kind: 'rune'; rune: Rune };

interface RuneForm {
  expires?: string | undefined;
  methods?: string[] | undefined;
  rate?: number | undefined;
  peerId?: string | undefined;
  readonly?: boolean | undefined;
  custom?: string[] | undefined;
}

/** Text that can only be meant as a macaroon: hex (LND's REST form) or base64 starting with the V2 byte 0x02. */
const looksLikeMacaroon = (t: string) => /^[0-9a-fA-F]+$/.test(t) || t.startsWith('Ag');

/**
 * A macaroon or a rune from pasted text or a dropped file (auto-detected).
 * @throws CldcbError bad_input when it is neither, with both decoders' reasons.
 */
export function decodeCredential(input: {
  text?: string | undefined;
  bytesB64?: string | undefined;
}): Decoded {
  if ((input.text === undefined) === (input.bytesB64 === undefined))
    throw new CldcbError('bad_input', 'Paste a macaroon or a rune, or drop its file (one of the two).');
  let text: string;
  if (input.bytesB64 !== undefined) {
    const bytes = b64ToBytes(input.bytesB64);
    try {
      if (bytes.length === 0)
        throw new CldcbError('bad_input', 'The file is empty: expected a macaroon or a rune.');
      if (bytes[0] === 2) return { kind: 'macaroon', macaroon: decodeMacaroon(bytes) };
      try {
        text = fromUtf8(bytes, 'file');
      } catch {
        throw new CldcbError(
          'bad_input',
          'The file is neither a binary macaroon (first byte 0x02) nor text: not a macaroon or a rune.',
        );
      }
    } finally {
      zeroize(bytes);
    }
  } else text = input.text!;
  const t = text.trim();
  if (t === '')
    throw new CldcbError(
      'bad_input',
      'Nothing to read: paste a macaroon (hex or base64) or a rune, or drop its file.',
    );
  let macaroonError: CldcbError;
  try {
    return { kind: 'macaroon', macaroon: decodeMacaroon(t) };
  } catch (e) {
    if (!(e instanceof CldcbError)) throw e;
    macaroonError = e;
  }
  try {
    return { kind: 'rune', rune: decodeRune(t) };
  } catch (e) {
    if (!(e instanceof CldcbError)) throw e;
    if (looksLikeMacaroon(t)) throw macaroonError;
    throw new CldcbError(
      'bad_input',
      `This is neither an LND macaroon nor a Core Lightning rune. As a macaroon: ${macaroonError.message} As a rune: ${e.message} Paste the whole credential: a macaroon as hex or base64 (or drop the .macaroon file), a rune as lightning-cli createrune prints it.`,
    );
  }
}

/** The time to verify at: RFC 3339 with a zone (Go's parser, as LND reads times). */
function parseAt(at: string): Date {
  const n = parseGoRfc3339(at);
  if (n === undefined)
    throw new CldcbError(
      'bad_input',
      `check time "${at}": expected an RFC 3339 time like 2026-12-01T00:00:00Z.`,
    );
  return new Date(Number(n / 1_000_000n));
}

function runeView(session: Session, rune: Rune, extraNotes: string[] = []): CredentialView {
  const text = encodeRune(rune);
  const s = session.current();
  const master = s ? runeMasterSecret(s.secretData) : undefined;
  let insp: RuneInspection;
  try {
    insp = inspectRune(text, master);
  } finally {
    zeroize(master);
  }
  const notes = [...extraNotes];
  // Authenticity and "unrestricted" travel in `rune` (authentic, notAuthenticReason, unrestricted); say what was not checked.
  if (!s)
    notes.push(
      'No secret is loaded: whether this node made the rune was not checked (Import secret to check).',
    );
  return {
    kind: 'rune',
    text,
    summary: [...insp.summary],
    rune: insp,
    macaroon: null,
    checkedAt: null,
    checkedIp: null,
    notes,
  };
}

function macaroonView(
  m: Macaroon,
  check: { rootKeyHex?: string | undefined; at?: string | undefined; ip?: string | undefined; now: Date },
  extraNotes: string[] = [],
): CredentialView {
  const notes = [...extraNotes];
  const bytes = encodeMacaroon(m);
  const rootKey =
    check.rootKeyHex !== undefined && check.rootKeyHex.trim() !== ''
      ? parseRootKey(check.rootKeyHex)
      : undefined;
  const at = check.at !== undefined && check.at !== '' ? parseAt(check.at) : check.now;
  const ip = check.ip !== undefined && check.ip.trim() !== '' ? check.ip.trim() : undefined;
  let insp: MacaroonInspection;
  try {
    insp = inspectMacaroon(bytes, rootKey, { now: at, ...(ip !== undefined ? { ip } : {}) });
  } finally {
    zeroize(rootKey);
  }
  if (!rootKey) {
    notes.push(
      'Not verified: give the root key (64 hex digits) to check the signature and the caveats at a time and IP.',
    );
  }
  return {
    kind: 'macaroon',
    text: macaroonToText(m, 'hex'),
    summary: [...insp.summary],
    rune: null,
    macaroon: insp,
    checkedAt: rootKey ? at.toISOString() : null,
    checkedIp: rootKey ? (ip ?? null) : null,
    notes,
  };
}

function runeRestrictions(form: RuneForm): RuneRestriction[] {
  return restrictionsFromOptions({
    ...(form.methods && form.methods.length > 0
      ? { methods: form.methods.map((m) => m.trim()).filter((m) => m !== '') }
      : {}),
    ...(form.readonly ? { readonly: true } : {}),
    ...(form.peerId !== undefined ? { peerId: form.peerId } : {}),
    ...(form.custom && form.custom.length > 0 ? { raw: form.custom } : {}),
    ...(form.expires !== undefined && form.expires !== '' ? { expires: form.expires } : {}),
    ...(form.rate !== undefined ? { rate: form.rate } : {}),
  });
}

/** "This expiry is already past" when it is. */
function pastExpiryNote(expires: string | undefined, now: Date): string[] {
  if (expires === undefined || expires === '') return [];
  const n = parseGoRfc3339(expires);
  const ms = n !== undefined ? Number(n / 1_000_000n) : Number(parseUnixSeconds(expires, 'expiry')) * 1000;
  return ms <= now.getTime()
    ? [`The expiry ${new Date(ms).toISOString()} is already past: the new credential is never valid.`]
    : [];
}

async function result(
  kind: 'macaroon' | 'rune',
  text: string,
  format: CredentialResult['format'],
  added: string[],
  view: CredentialView,
): Promise<CredentialResult> {
  return { kind, text, format, added, view, qrSvgDataUrl: await qrSvgDataUrl(text) };
}

/** The reminder for a last-rotation date (YYYY-MM-DD, UTC days). */
export function rotationView(lastRotation: string | null, now: Date): RotationView {
  if (lastRotation === null)
    return { lastRotation: null, nextDue: null, daysLeft: null, overdue: false, policyDays: ROTATION_DAYS };
  const last = Date.parse(`${lastRotation}T00:00:00Z`);
  const due = last + ROTATION_DAYS * DAY_MS;
  const today = Date.parse(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  const daysLeft = Math.round((due - today) / DAY_MS);
  return {
    lastRotation,
    nextDue: new Date(due).toISOString().slice(0, 10),
    daysLeft,
    overdue: daysLeft < 0,
    policyDays: ROTATION_DAYS,
  };
}

export function credentialHandlers({ deps, session, now }: BackendContext): HandlerGroup<C> {
  let lastRotation: string | null = null;

  return {
    'cred.inspect': ({ text, bytesB64, rootKeyHex, at, ip }) => {
      const d = decodeCredential({ text, bytesB64 });
      if (d.kind === 'macaroon') return macaroonView(d.macaroon, { rootKeyHex, at, ip, now: now() });
      const notes: string[] = [];
      if (rootKeyHex !== undefined && rootKeyHex.trim() !== '')
        notes.push('A root key is for macaroons: it was not used for this rune.');
      return runeView(session, d.rune, notes);
    },

    'cred.restrict': async (input) => {
      const d = decodeCredential(input);
      const notes = pastExpiryNote(input.expires, now());
      if (d.kind === 'rune') {
        if ((input.ip ?? '').trim() !== '' || (input.ipRange ?? '').trim() !== '')
          throw new CldcbError(
            'bad_input',
            'A Core Lightning rune cannot be tied to an IP address (the node checks no such field). Limit its methods, peer id, expiry or rate instead.',
          );
        const restrictions = runeRestrictions(input);
        if (restrictions.length === 0)
          throw new CldcbError(
            'bad_input',
            'Nothing to add: fill in at least one restriction (methods, expiry, rate, peer id or a custom one).',
          );
        const rune = restrictRune(d.rune, restrictions);
        return result(
          'rune',
          encodeRune(rune),
          'rune',
          restrictions.map(restrictionToString),
          runeView(session, rune, notes),
        );
      }
      if (
        (input.methods ?? []).some((m) => m.trim() !== '') ||
        input.rate !== undefined ||
        input.peerId !== undefined ||
        input.readonly
      )
        throw new CldcbError(
          'bad_input',
          'A macaroon’s permissions are fixed when it is baked: caveats can add an expiry, an IP address or range, or a custom condition, but not methods, a rate or a peer. Bake a narrower macaroon on the node (lncli bakemacaroon).',
        );
      const trimmed = (s: string | undefined) => (s !== undefined && s.trim() !== '' ? s.trim() : undefined);
      const expires = trimmed(input.expires);
      const ip = trimmed(input.ip);
      const ipRange = trimmed(input.ipRange);
      const caveats = caveatsFromOptions({
        ...(expires !== undefined ? { expires } : {}),
        ...(ip !== undefined ? { ip } : {}),
        ...(ipRange !== undefined ? { ipRange } : {}),
        ...(input.custom && input.custom.length > 0 ? { raw: input.custom } : {}),
      });
      if (caveats.length === 0)
        throw new CldcbError(
          'bad_input',
          'Nothing to add: fill in at least one caveat (expiry, IP address, IP range or a custom one).',
        );
      const m = attenuateMacaroon(d.macaroon, caveats);
      const format = input.format ?? 'hex';
      return result(
        'macaroon',
        macaroonToText(m, format),
        format,
        caveats,
        macaroonView(m, { now: now() }, notes),
      );
    },

    'cred.mintRune': async ({ uniqueId, ...form }) => {
      const s = session.get();
      const restrictions = runeRestrictions(form);
      const master = runeMasterSecret(s.secretData);
      let rune: Rune;
      try {
        rune = mintRune(master, uniqueId, restrictions);
      } finally {
        zeroize(master);
      }
      const notes = pastExpiryNote(form.expires, now());
      return result(
        'rune',
        encodeRune(rune),
        'rune',
        restrictions.map(restrictionToString),
        runeView(session, rune, notes),
      );
    },

    'cred.save': async ({ kind, text, binary }) => {
      const t = text.trim();
      let data: string | Uint8Array;
      let defaultName: string;
      if (kind === 'rune') {
        if (binary) throw new CldcbError('bad_input', 'A rune has no binary form: save it as text.');
        decodeRune(t); // refuse to save something that is not a rune
        data = `${t}\n`;
        defaultName = 'rune.txt';
      } else {
        const m = decodeMacaroon(t);
        data = binary ? encodeMacaroon(m) : `${t}\n`;
        defaultName = binary ? 'restricted.macaroon' : 'restricted-macaroon.txt';
      }
      const target = await deps.chooseSavePath({
        title: kind === 'rune' ? 'Save the rune' : 'Save the macaroon',
        defaultName,
      });
      if (target === null) return null;
      writeFileAtomic(target, data, { mode: 0o600 });
      return { path: target };
    },

    'cred.rotation': ({ lastRotation: set }) => {
      if (set === null) lastRotation = null;
      else if (set !== undefined) {
        const ms = Date.parse(`${set}T00:00:00Z`);
        if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== set)
          throw new CldcbError('bad_input', `last rotation "${set}": not a real date.`);
        // One day of slack: the operator's calendar day may be ahead of UTC.
        if (ms > now().getTime() + DAY_MS)
          throw new CldcbError(
            'bad_input',
            `last rotation ${set}: that is in the future; record the day the credentials were actually rotated.`,
          );
        lastRotation = set;
      }
      return rotationView(lastRotation, now());
    },
  };
}
